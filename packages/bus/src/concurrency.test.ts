import { describe, expect, it } from 'vitest';
import { InFlight, Semaphore } from './concurrency';

describe('Semaphore', () => {
  it('lets `size` holders in and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    await semaphore.acquire();
    await semaphore.acquire();
    const order: number[] = [];
    const third = semaphore.acquire().then(() => order.push(3));
    const fourth = semaphore.acquire().then(() => order.push(4));
    await Promise.resolve();
    expect(order).toEqual([]);
    semaphore.release();
    await third;
    expect(order).toEqual([3]);
    semaphore.release();
    await fourth;
    expect(order).toEqual([3, 4]);
    expect(semaphore.inUse).toBe(2);
    semaphore.release();
    semaphore.release();
    expect(semaphore.inUse).toBe(0);
  });
});

describe('InFlight', () => {
  it('waits for tracked tasks, failed ones included', async () => {
    const inFlight = new InFlight();
    let done = 0;
    inFlight.track(new Promise((resolve) => setTimeout(resolve, 20)).then(() => done++));
    inFlight.track(Promise.reject(new Error('ignored here')));
    await inFlight.idle();
    expect(done).toBe(1);
    expect(inFlight.size).toBe(0);
  });
});
