import { parseArgs } from 'node:util';
import { startSandbox } from './server';

// tsx packages/telegram-sandbox/src/main.ts [--port 8081] [--host 127.0.0.1]
//   [--state data/telegram-sandbox.json] [--supergroup -1001000000001] [--limits] [--log]
//   [--allowed-host sandbox.internal]...  (Host names to answer to besides loopback and --host)

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8081' },
    state: { type: 'string' },
    supergroup: { type: 'string' },
    limits: { type: 'boolean', default: false },
    log: { type: 'boolean', default: false },
    'allowed-host': { type: 'string', multiple: true, default: [] },
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
  allowedHosts: values['allowed-host'],
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
if (!['127.0.0.1', 'localhost', '::1'].includes(values.host)) {
  console.warn(
    `warning: listening on ${values.host}, not loopback: anyone who can reach it can read and post as the bots`,
  );
}

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
