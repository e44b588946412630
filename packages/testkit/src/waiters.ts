/**
 * Waiting on a client's state: resolves with the first value of `check` that is neither
 * undefined nor false. `check` runs now, whenever the owner wakes the functions in `waiters`
 * (a frame arrived, the socket closed), and every 100 ms; after `timeoutMs` it rejects with
 * `timeoutMessage()`.
 */
export function waitFor<T>(
  waiters: Set<() => void>,
  check: () => T | undefined | false,
  timeoutMs: number,
  timeoutMessage: () => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const evaluate = () => {
      const value = check();
      if (value === undefined || value === false) return;
      cleanup();
      resolve(value);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(timeoutMessage()));
    }, timeoutMs);
    const poll = setInterval(evaluate, 100);
    const cleanup = () => {
      clearTimeout(timer);
      clearInterval(poll);
      waiters.delete(evaluate);
    };
    waiters.add(evaluate);
    evaluate();
  });
}
