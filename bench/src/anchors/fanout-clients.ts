// A child process holding visitor sockets for the fanout benchmark, Topicdesk's (`ws`, JSON
// frames) or Socket.IO's (socket.io-client, websocket transport only), recording for every
// message the delay from the publisher's timestamp (carried in the text) to its arrival here.
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';

interface Target {
  url: string;
  /** Topicdesk: the conversation token. Socket.IO: the room. */
  credential: string;
}

const mode = process.env['MODE'] as 'topicdesk' | 'socketio';
const targets = JSON.parse(readFileSync(process.env['TARGETS_FILE']!, 'utf8')) as Target[];
const now = () => performance.timeOrigin + performance.now();
let latencies: number[] = [];
let received = 0;

function onPayload(text: string): void {
  received += 1;
  latencies.push(now() - Number(text));
}

function openTopicdesk(target: Target): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${target.url}/v1/ws`, {
      headers: { authorization: `Bearer ${target.credential}` },
    });
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as { type: string; text?: string };
      if (frame.type === 'status') resolve(socket);
      else if (frame.type === 'message' && frame.text) onPayload(frame.text);
    });
    socket.once('error', reject);
  });
}

function openSocketIo(target: Target): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(target.url, {
      transports: ['websocket'],
      query: { room: target.credential },
      reconnection: false,
      forceNew: true,
    });
    socket.on('message', (frame: { text: string }) => onPayload(frame.text));
    socket.once('status', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const sockets: Array<WebSocket | Socket> = [];
let next = 0;
await Promise.all(
  Array.from({ length: 50 }, async () => {
    while (next < targets.length) {
      const target = targets[next++]!;
      sockets.push(mode === 'topicdesk' ? await openTopicdesk(target) : await openSocketIo(target));
    }
  }),
);
process.send?.({ type: 'ready', sockets: sockets.length });

process.on('message', (message: string) => {
  if (message === 'collect') {
    process.send?.({ type: 'latencies', received, latencies });
    latencies = [];
    received = 0;
  } else if (message === 'exit') {
    for (const socket of sockets) {
      if (socket instanceof WebSocket) socket.terminate();
      else socket.disconnect();
    }
    process.exit(0);
  }
});
