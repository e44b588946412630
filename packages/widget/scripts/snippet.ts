// Prints the <script> snippet a site pastes: the versioned (immutable) URL with its integrity,
// for the build the gateway serves (dist/), built first if there is none.
// Usage: pnpm --filter @topicdesk/widget snippet https://support.example.com [pk_… site key]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWidget, distDir, integrityOf, versionOf } from './build';

const origin = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
// A gateway of many sites: the tenant's public siteKey (platform API), as data-site-key.
const siteKey = process.argv[3];
if (siteKey !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(siteKey))
  throw new Error(`not a site key: ${siteKey}`);
const built = join(distDir, 'widget.js');
const js = existsSync(built) ? readFileSync(built) : (await buildWidget({ write: true })).js;
console.log(`<script
  src="${origin}/widget.${versionOf(js)}.js"
  integrity="${integrityOf(js)}"
  crossorigin="anonymous"${siteKey ? `\n  data-site-key="${siteKey}"` : ''}
></script>
<script>
  SupportChat.init({ origin: '${origin}' });
</script>`);
