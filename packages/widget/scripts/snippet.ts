// Prints the <script> snippet a site pastes: the versioned (immutable) URL with its integrity.
// Usage: pnpm --filter @topicdesk/widget snippet https://support.example.com
import { buildWidget } from './build';

const origin = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const { version, integrity } = await buildWidget();
console.log(`<script src="${origin}/widget.${version}.js" integrity="${integrity}" crossorigin="anonymous"></script>
<script>
  SupportChat.init({ origin: '${origin}' });
</script>`);
