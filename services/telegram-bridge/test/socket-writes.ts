import { AsyncLocalStorage } from 'node:async_hooks';
import { Socket } from 'node:net';

/** Where a socket write went, by the port it was connected to. */
export type Destination = 'postgres' | 'redis' | 'nats' | 'telegram' | 'other';

export interface WriteCount {
  /** Socket writes (one system call each): a `_write`, or a `_writev` of corked chunks. */
  writes: number;
  /** Chunks written: for Redis, ioredis writes one per command; for NATS, one per flush. */
  chunks: number;
}

type Counts = Record<Destination, WriteCount>;

const empty = (): Counts => ({
  postgres: { writes: 0, chunks: 0 },
  redis: { writes: 0, chunks: 0 },
  nats: { writes: 0, chunks: 0 },
  telegram: { writes: 0, chunks: 0 },
  other: { writes: 0, chunks: 0 },
});

type Writing = {
  _write: (...args: unknown[]) => unknown;
  _writev: (chunks: unknown[], ...rest: unknown[]) => unknown;
};

/**
 * Counts the socket writes of one side of a test process: the sockets connected while running
 * inside `side.run()` (and anything started from there: pools that connect later, timers,
 * consumers) are that side's, whatever else shares the process. Patches `net.Socket` for the
 * life of the process (a test file's).
 */
export function countSocketWrites(ports: { telegram: () => number }) {
  const side = new AsyncLocalStorage<true>();
  const owned = new WeakSet<Socket>();
  let counts = empty();
  const proto = Socket.prototype as unknown as Writing & {
    connect: (...args: unknown[]) => unknown;
  };
  const byPort: Record<number, Destination> = { 5432: 'postgres', 6379: 'redis', 4222: 'nats' };
  const destination = (socket: Socket): Destination => {
    const port = socket.remotePort ?? -1;
    return byPort[port] ?? (port === ports.telegram() ? 'telegram' : 'other');
  };
  const connect = proto.connect;
  proto.connect = function (this: Socket, ...args: unknown[]) {
    if (side.getStore()) owned.add(this);
    return connect.apply(this, args);
  };
  const write = proto._write;
  proto._write = function (this: Socket, ...args: unknown[]) {
    if (owned.has(this)) {
      const count = counts[destination(this)];
      count.writes += 1;
      count.chunks += 1;
    }
    return write.apply(this, args);
  };
  const writev = proto._writev;
  proto._writev = function (this: Socket, chunks: unknown[], ...rest: unknown[]) {
    if (owned.has(this)) {
      const count = counts[destination(this)];
      count.writes += 1;
      count.chunks += chunks.length;
    }
    return writev.call(this, chunks, ...rest);
  };
  return {
    /** Runs `start` as the counted side. */
    run: <T>(start: () => Promise<T>): Promise<T> => side.run(true, start),
    counts: (): Counts => counts,
    total: (): number => Object.values(counts).reduce((sum, c) => sum + c.writes, 0),
    reset: () => {
      counts = empty();
    },
  };
}
