// The anchor of the idle-connections benchmark: a bare `ws` server holding WebSocket
// connections and doing nothing else (one small frame on connect, like the gateway's status).
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.env['PORT']);
const server = createServer((_request, response) => response.end('ok'));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => {
  socket.on('message', () => undefined);
  socket.send('{"type":"status","status":"open"}');
});
server.listen(port, '127.0.0.1', () => process.send?.('ready'));
