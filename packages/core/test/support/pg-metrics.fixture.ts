// Run as a process of its own, started like a service (telemetry first, then pg): runs three
// queries inside a span and prints the Prometheus text of its /metrics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initTelemetry, withSpan } from '@topicdesk/telemetry';

const telemetry = initTelemetry({ serviceName: 'topicdesk-fixture' });
const { createDatabase } = await import('@topicdesk/data');
const database = await createDatabase({ url: process.env['DATABASE_URL'] });
for (let i = 0; i < 3; i++) await withSpan('unit work', {}, () => database.ping());
const server = createServer((request, response) => telemetry.handleMetrics(request, response));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
server.close();
await database.close();
await telemetry.shutdown();
