// vitest globalSetup of the e2e project: builds the widget and the console from their current
// source before any suite starts a gateway, so browser tests never run against a stale or
// missing dist/.
import { buildConsole } from '@topicdesk/console/build';
import { buildWidget } from '@topicdesk/widget/build';

export default async function setup(): Promise<void> {
  const [widget, console_] = await Promise.all([
    buildWidget({ write: true }),
    buildConsole({ write: true }),
  ]);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `widget built: ${widget.version}, ${kb(widget.gzipBytes.js)} gzip; console built: ` +
      `${console_.manifest.js}, ${kb(console_.manifest.gzipBytes.js + console_.manifest.gzipBytes.css)} gzip`,
  );
}
