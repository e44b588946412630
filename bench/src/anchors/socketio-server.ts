// The anchor of the fanout benchmark: a Socket.IO server with @socket.io/redis-adapter, one of
// two replicas. Each client joins the room named in its handshake (its conversation).
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const port = Number(process.env['PORT']);
const redisUrl = process.env['REDIS_URL']!;
const key = process.env['ADAPTER_KEY']!;

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  adapter: createAdapter(pub, sub, { key }),
});
io.on('connection', (socket) => {
  const room = socket.handshake.query['room'];
  if (typeof room === 'string') void socket.join(room);
  socket.emit('status', { status: 'open' });
});
httpServer.listen(port, '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => process.exit(0));
