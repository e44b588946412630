import type { Redis } from 'ioredis';

type Writable = {
  write: (...args: never[]) => boolean;
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
};

/**
 * Every command ioredis sends is its own socket write, i.e. a system call and a packet each
 * (about a quarter of a service's CPU went to socket writes, docs/benchmarks.md §2). Commands
 * issued in one turn of the event loop — a receipt's PUBLISH and the sync lock's release right
 * after it, the locks of syncs that started together — go out in one write instead: the first
 * write of a turn corks the socket and the turn's end (setImmediate: after the poll phase's
 * callbacks, before the loop waits again) uncorks it. Nothing waits longer than the turn it was
 * sent in; the order of commands on the connection does not change.
 */
export function coalesceWrites(redis: Redis): void {
  // ioredis makes a new socket on every (re)connection and says so with 'connect'.
  redis.on('connect', () => corkPerTurn(redis.stream));
}

/** Wraps one socket's write (exported for its test). */
export function corkPerTurn(socket: Writable): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Writable, ...args: never[]): boolean {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write.apply(this, args);
  };
}
