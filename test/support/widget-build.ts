// vitest globalSetup of the e2e project: builds the widget from its current source before any
// suite starts a gateway, so browser tests never run against a stale or missing dist/.
import { buildWidget } from '@topicdesk/widget/build';

export default async function setup(): Promise<void> {
  const build = await buildWidget({ write: true });
  console.log(`widget built: ${build.version}, ${(build.gzipBytes.js / 1024).toFixed(1)} KB gzip`);
}
