import { parseArgs } from 'node:util';
import { startSandbox } from './server';

// tsx packages/telegram-sandbox/src/main.ts [--port 8081] [--host 127.0.0.1]
//   [--state data/telegram-sandbox.json] [--supergroup -1001000000001] [--limits] [--log]

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8081' },
    state: { type: 'string' },
    supergroup: { type: 'string' },
    limits: { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  throw new Error(`--port must be a port number, got ${values.port}`);
}
const supergroupId = values.supergroup === undefined ? undefined : Number(values.supergroup);
if (supergroupId !== undefined && !Number.isSafeInteger(supergroupId)) {
  throw new Error(`--supergroup must be a chat id, got ${values.supergroup}`);
}

const sandbox = await startSandbox({
  host: values.host,
  port,
  logger: values.log,
  limits: { enabled: values.limits },
  ...(values.state === undefined ? {} : { statePath: values.state }),
  ...(supergroupId === undefined ? {} : { supergroupId }),
});

console.log(`Telegram sandbox listening
  TELEGRAM_API_ROOT=${sandbox.url}
  agent page:   ${sandbox.url}/
  control API:  ${sandbox.url}/sandbox/state
  supergroup:   ${sandbox.state.supergroupId}${values.state ? `\n  state file:   ${values.state}` : ''}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('telegram sandbox: shutdown failed', error);
        process.exit(1);
      },
    );
  });
}
