import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CoordinationError,
  CoordinationErrorCode,
  type Budget,
  type Coordination,
  type DueLock,
  type FanoutEvent,
  type Lock,
} from '../src/index';
import { collector, fresh, sleep, type CapturingLogger } from './helpers';

export interface SuiteTarget {
  /**
   * Two "replicas" sharing one logger. For the in-process twin both are the same instance:
   * in one-process mode every service shares the one coordination.
   */
  replicas(logger: CapturingLogger): Promise<[Coordination, Coordination]>;
  /** A coordination of its own, for tests that close it. */
  single(): Promise<Coordination>;
}

/** The behaviour both implementations promise; run once against Redis and once in process. */
export function coordinationSuite(name: string, target: SuiteTarget, logger: CapturingLogger) {
  describe(name, () => {
    let a: Coordination;
    let b: Coordination;

    beforeAll(async () => {
      [a, b] = await target.replicas(logger);
    });

    afterAll(async () => {
      await a.close();
      await b.close();
    });

    const waitForLength = (list: unknown[], length: number) =>
      vi.waitFor(() => expect(list).toHaveLength(length), { timeout: 3000, interval: 5 });

    describe('fanout', () => {
      it('delivers an event published on one replica to a listener on the other', async () => {
        const conversation = fresh('conv');
        const seen = collector();
        const unsubscribe = await a.fanout.subscribe(conversation, seen.listener);
        const event = { type: 'message', seq: 1, text: 'hello', origin: 'b' };
        await b.fanout.publish(conversation, event);
        await waitForLength(seen.events, 1);
        expect(seen.events[0]).toEqual(event);
        // Listeners get a decoded copy, never the publisher's object.
        expect(seen.events[0]).not.toBe(event);
        await unsubscribe();
      });

      it('receives a publish sent right after subscribe resolves', async () => {
        const conversations = Array.from({ length: 20 }, () => fresh('conv'));
        const seen = collector();
        const unsubscribes = [];
        for (const conversation of conversations) {
          unsubscribes.push(await b.fanout.subscribe(conversation, seen.listener));
          await a.fanout.publish(conversation, { conversation });
        }
        await waitForLength(seen.events, conversations.length);
        expect(seen.events.map((e) => e['conversation'])).toEqual(conversations);
        await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
      });

      it('keeps the order of events from one publisher', async () => {
        const conversation = fresh('conv');
        const seen = collector();
        const unsubscribe = await b.fanout.subscribe(conversation, seen.listener);
        await Promise.all(
          Array.from({ length: 100 }, (_, i) => a.fanout.publish(conversation, { seq: i + 1 })),
        );
        await waitForLength(seen.events, 100);
        expect(seen.events.map((e) => e['seq'])).toEqual(
          Array.from({ length: 100 }, (_, i) => i + 1),
        );
        await unsubscribe();
      });

      it('delivers to listeners on both replicas and never inside publish()', async () => {
        const conversation = fresh('conv');
        const onA = collector();
        const onB = collector();
        const offA = await a.fanout.subscribe(conversation, onA.listener);
        const offB = await b.fanout.subscribe(conversation, onB.listener);
        const publishing = a.fanout.publish(conversation, { seq: 1 });
        expect(onA.events).toHaveLength(0);
        await publishing;
        await waitForLength(onA.events, 1);
        await waitForLength(onB.events, 1);
        await offA();
        await offB();
      });

      it('keeps delivering to the other listeners when one leaves, and stops after the last leaves', async () => {
        const conversation = fresh('conv');
        const first = collector();
        const second = collector();
        const sentinel = collector();
        const offFirst = await a.fanout.subscribe(conversation, first.listener);
        const offSecond = await a.fanout.subscribe(conversation, second.listener);
        await b.fanout.publish(conversation, { seq: 1 });
        await waitForLength(first.events, 1);
        await waitForLength(second.events, 1);

        await offFirst();
        await offFirst(); // idempotent: must not take the second listener's reference
        await b.fanout.publish(conversation, { seq: 2 });
        await waitForLength(second.events, 2);
        expect(first.events).toHaveLength(1);

        await offSecond();
        // A listener on the other replica proves the event went out; the left ones stay quiet.
        const offSentinel = await b.fanout.subscribe(conversation, sentinel.listener);
        await a.fanout.publish(conversation, { seq: 3 });
        await waitForLength(sentinel.events, 1);
        await sleep(30);
        expect(first.events).toHaveLength(1);
        expect(second.events).toHaveLength(2);

        // Subscribing again after everyone left works as the first time.
        const again = collector();
        const offAgain = await a.fanout.subscribe(conversation, again.listener);
        await b.fanout.publish(conversation, { seq: 4 });
        await waitForLength(again.events, 1);
        await offAgain();
        await offSentinel();
      });

      it('logs a throwing listener and still delivers to the others', async () => {
        const conversation = fresh('conv');
        const seen = collector();
        const offThrowing = await a.fanout.subscribe(conversation, () => {
          throw new Error('listener bug');
        });
        const offRejecting = await a.fanout.subscribe(
          conversation,
          // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the misuse under test
          () => Promise.reject(new Error('async listener bug')),
        );
        const offGood = await a.fanout.subscribe(conversation, seen.listener);
        await b.fanout.publish(conversation, { seq: 1 });
        await b.fanout.publish(conversation, { seq: 2 });
        await waitForLength(seen.events, 2);
        await vi.waitFor(() => {
          const errors = logger.entries.filter(
            (e) =>
              e.level === 'error' &&
              (e.obj as { conversationId?: string }).conversationId === conversation,
          );
          expect(errors.map((e) => e.msg).sort()).toEqual([
            'fanout listener rejected',
            'fanout listener rejected',
            'fanout listener threw',
            'fanout listener threw',
          ]);
        });
        await Promise.all([offThrowing(), offRejecting(), offGood()]);
      });

      it('refuses events that are not JSON objects', async () => {
        const conversation = fresh('conv');
        await expect(a.fanout.publish(conversation, { big: 1n })).rejects.toMatchObject({
          code: CoordinationErrorCode.InvalidArgument,
        });
        await expect(
          a.fanout.publish(conversation, [1, 2] as unknown as FanoutEvent),
        ).rejects.toMatchObject({ code: CoordinationErrorCode.InvalidArgument });
        await expect(a.fanout.publish('', { seq: 1 })).rejects.toMatchObject({
          code: CoordinationErrorCode.InvalidArgument,
        });
      });

      it('reports healthy while connected', () => {
        expect(a.health()).toEqual({ ok: true });
        expect(a.fanout.health()).toEqual({ ok: true });
      });
    });

    describe('budgets', () => {
      const budget = (limit: number, windowMs: number): Budget => ({
        key: fresh('tg:group'),
        limit,
        windowMs,
      });

      it('lets 20 through per window, then makes the 21st wait about the rest of the window', async () => {
        const group = budget(20, 1000);
        const started = Date.now();
        for (let i = 0; i < 20; i++) expect(await a.budgets.tryAcquire([group])).toBe(0);
        const elapsed = Date.now() - started;
        const wait = await a.budgets.tryAcquire([group]);
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(1000);
        expect(wait).toBeGreaterThanOrEqual(1000 - elapsed - 50);

        const waits: number[] = [];
        const before = Date.now();
        await b.budgets.acquire([group], { onWait: (ms) => waits.push(ms) });
        const waited = Date.now() - before;
        expect(waits.length).toBeGreaterThanOrEqual(1);
        expect(waits[0]).toBeLessThanOrEqual(wait);
        expect(waited).toBeGreaterThanOrEqual(wait - 60);
        expect(waited).toBeLessThan(wait + 400);
      });

      it('gives a use to the pool candidate with the most room, across instances, and says how long when none has any', async () => {
        const botA = budget(2, 1000);
        const botB = budget(3, 1000);
        // B has more room: it goes first, then they alternate by room left.
        expect(await a.budgets.tryAcquireAny([[botA], [botB]])).toEqual({ index: 1, waitMs: 0 });
        expect(await b.budgets.tryAcquireAny([[botA], [botB]])).toEqual({ index: 0, waitMs: 0 });
        const used: number[] = [];
        for (let i = 0; i < 3; i++)
          used.push((await a.budgets.tryAcquireAny([[botA], [botB]])).index);
        expect(used.sort()).toEqual([0, 1, 1]);
        const none = await b.budgets.tryAcquireAny([[botA], [botB]]);
        expect(none.index).toBe(-1);
        expect(none.waitMs).toBeGreaterThan(0);
        expect(none.waitMs).toBeLessThanOrEqual(1000);
        // Nothing was recorded by the refused attempt: B's own window is exactly full.
        expect(await a.budgets.tryAcquire([botB])).toBeGreaterThan(0);
      });

      it('skips a penalised candidate and checks every budget of a candidate', async () => {
        const shared = budget(10, 1000);
        const botA = budget(5, 1000);
        const botB = budget(5, 1000);
        await a.budgets.penalize([botA], 800);
        expect(
          await b.budgets.tryAcquireAny([
            [botA, shared],
            [botB, shared],
          ]),
        ).toEqual({
          index: 1,
          waitMs: 0,
        });
        const full = budget(1, 1000);
        expect(await a.budgets.tryAcquire([full])).toBe(0);
        const result = await a.budgets.tryAcquireAny([[botA], [botB, full]]);
        expect(result.index).toBe(-1);
        expect(result.waitMs).toBeGreaterThan(0);
        expect(await a.budgets.tryAcquireAny([])).toEqual({ index: -1, waitMs: 0 });
      });

      it('records nothing when one of several budgets is full', async () => {
        const group = budget(1, 1000);
        const chat = budget(3, 1000);
        expect(await a.budgets.tryAcquire([group])).toBe(0);
        expect(await a.budgets.tryAcquire([chat, group])).toBeGreaterThan(0);
        for (let i = 0; i < 3; i++) expect(await a.budgets.tryAcquire([chat])).toBe(0);
        expect(await a.budgets.tryAcquire([chat])).toBeGreaterThan(0);
      });

      it('shares one budget between replicas', async () => {
        const bot = budget(3, 1000);
        for (let i = 0; i < 3; i++) expect(await a.budgets.tryAcquire([bot])).toBe(0);
        expect(await b.budgets.tryAcquire([bot])).toBeGreaterThan(0);
      });

      it('has room again once the window has passed', async () => {
        const chat = budget(2, 300);
        expect(await a.budgets.tryAcquire([chat])).toBe(0);
        expect(await b.budgets.tryAcquire([chat])).toBe(0);
        const wait = await a.budgets.tryAcquire([chat]);
        expect(wait).toBeGreaterThan(0);
        await sleep(wait + 20);
        expect(await b.budgets.tryAcquire([chat])).toBe(0);
      });

      it('blocks a penalized budget on every replica and never shortens a penalty', async () => {
        const bot = budget(30, 1000);
        const chat = budget(1, 1000);
        await a.budgets.penalize([bot], 600);
        const wait = await b.budgets.tryAcquire([bot, chat]);
        expect(wait).toBeGreaterThan(450);
        expect(wait).toBeLessThanOrEqual(600);
        await b.budgets.penalize([bot], 100);
        expect(await a.budgets.tryAcquire([bot])).toBeGreaterThan(400);
        // The blocked attempt recorded nothing in the other budget.
        expect(await a.budgets.tryAcquire([chat])).toBe(0);
        await sleep(wait + 20);
        expect(await a.budgets.tryAcquire([bot])).toBe(0);
      });

      it('peeks at budgets on every replica without recording a use', async () => {
        const group = budget(5, 1000);
        const chat = budget(3, 1000);
        expect(await b.budgets.peek([group, chat])).toEqual([
          { used: 0, blockedMs: 0 },
          { used: 0, blockedMs: 0 },
        ]);
        for (let i = 0; i < 2; i++) expect(await a.budgets.tryAcquire([group])).toBe(0);
        await a.budgets.penalize([chat], 600);
        const [g, c] = await b.budgets.peek([group, chat]);
        expect(g).toEqual({ used: 2, blockedMs: 0 });
        expect(c?.used).toBe(0);
        expect(c?.blockedMs).toBeGreaterThan(400);
        expect(c?.blockedMs).toBeLessThanOrEqual(600);
        // Peeking took nothing: three more fit in the group's five.
        for (let i = 0; i < 3; i++) expect(await b.budgets.tryAcquire([group])).toBe(0);
        expect(await a.budgets.peek([])).toEqual([]);
      });

      it('stops waiting with the abort reason when the signal aborts', async () => {
        const chat = budget(1, 1000);
        await a.budgets.acquire([chat]);
        const controller = new AbortController();
        const reason = new Error('shutting down');
        setTimeout(() => controller.abort(reason), 50);
        const before = Date.now();
        await expect(b.budgets.acquire([chat], { signal: controller.signal })).rejects.toBe(reason);
        expect(Date.now() - before).toBeLessThan(500);
      });

      it('acquires no budgets at once and refuses malformed ones', async () => {
        expect(await a.budgets.tryAcquire([])).toBe(0);
        await expect(
          a.budgets.tryAcquire([{ key: fresh('k'), limit: 0, windowMs: 1000 }]),
        ).rejects.toMatchObject({ code: CoordinationErrorCode.InvalidArgument });
        const key = fresh('k');
        await expect(
          a.budgets.tryAcquire([
            { key, limit: 1, windowMs: 1000 },
            { key, limit: 2, windowMs: 1000 },
          ]),
        ).rejects.toMatchObject({ code: CoordinationErrorCode.InvalidArgument });
      });
    });

    describe('quotas', () => {
      it('allows limit hits per window, then refuses with the time until one frees up', async () => {
        const ip = fresh('conversations:ip');
        expect(await a.quotas.hit(ip, 3, 500)).toEqual({
          allowed: true,
          remaining: 2,
          retryAfterMs: 0,
          use: expect.any(String),
        });
        expect(await b.quotas.hit(ip, 3, 500)).toMatchObject({ allowed: true, remaining: 1 });
        expect(await a.quotas.hit(ip, 3, 500)).toMatchObject({ allowed: true, remaining: 0 });
        const refused = await b.quotas.hit(ip, 3, 500);
        expect(refused.allowed).toBe(false);
        expect(refused.remaining).toBe(0);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
        // Refused hits consume nothing: the wait does not grow.
        expect((await a.quotas.hit(ip, 3, 500)).retryAfterMs).toBeLessThanOrEqual(
          refused.retryAfterMs,
        );
        await sleep(refused.retryAfterMs + 20);
        expect(await a.quotas.hit(ip, 3, 500)).toMatchObject({ allowed: true });
      });

      it('counts each key on its own', async () => {
        const one = fresh('messages:conv');
        const two = fresh('messages:conv');
        expect((await a.quotas.hit(one, 1, 1000)).allowed).toBe(true);
        expect((await a.quotas.hit(one, 1, 1000)).allowed).toBe(false);
        expect((await b.quotas.hit(two, 1, 1000)).allowed).toBe(true);
      });

      it('gives back a refunded unit on any replica, once: a store that failed costs nothing', async () => {
        const key = fresh('messages:conv');
        const first = await a.quotas.hit(key, 2, 5000);
        const second = await a.quotas.hit(key, 2, 5000);
        expect((await a.quotas.hit(key, 2, 5000)).allowed).toBe(false);
        expect(first.use).toBeDefined();
        expect(second.use).not.toBe(first.use);
        // The replica that took the unit may not be the one that learns the work failed.
        expect(await b.quotas.refund(key, first.use ?? '')).toBe(true);
        expect(await a.quotas.refund(key, first.use ?? '')).toBe(false);
        expect(await b.quotas.hit(key, 2, 5000)).toMatchObject({ allowed: true, remaining: 0 });
        // A second refund of the same unit frees nothing more.
        expect((await a.quotas.hit(key, 2, 5000)).allowed).toBe(false);
      });

      it('refunds nothing for a use it does not know, of another key, or that left the window', async () => {
        const key = fresh('messages:conv');
        const other = fresh('messages:conv');
        const taken = await a.quotas.hit(key, 1, 200);
        expect(await a.quotas.refund(key, 'no-such-use')).toBe(false);
        expect(await a.quotas.refund(other, taken.use ?? '')).toBe(false);
        expect((await a.quotas.hit(key, 1, 200)).allowed).toBe(false);
        await sleep(250);
        expect(await b.quotas.refund(key, taken.use ?? '')).toBe(false);
        const next = await a.quotas.hit(key, 1, 200);
        expect(next.allowed).toBe(true);
        expect((await a.quotas.hit(key, 1, 200)).allowed).toBe(false);
      });

      it('reports the units used in the window on any replica, refunds and expiry included', async () => {
        const key = fresh('tenant:plan');
        expect(await b.quotas.used(key, 300)).toBe(0);
        const first = await a.quotas.hit(key, 5, 300);
        await a.quotas.hit(key, 5, 300);
        expect(await b.quotas.used(key, 300)).toBe(2);
        await b.quotas.refund(key, first.use ?? '');
        expect(await a.quotas.used(key, 300)).toBe(1);
        await sleep(350);
        expect(await b.quotas.used(key, 300)).toBe(0);
      });
    });

    describe('leases', () => {
      it('holds at most limit leases of a key across replicas; a release frees one', async () => {
        const key = fresh('sockets');
        expect(await a.leases.hold(key, 'a1', 2, 5000)).toBe(true);
        expect(await b.leases.hold(key, 'b1', 2, 5000)).toBe(true);
        expect(await a.leases.hold(key, 'a2', 2, 5000)).toBe(false);
        // Holding a lease held already is a renewal, not one more.
        expect(await b.leases.hold(key, 'b1', 2, 5000)).toBe(true);
        expect(await a.leases.count(key)).toBe(2);
        await b.leases.release(key, 'b1');
        await b.leases.release(key, 'b1');
        expect(await b.leases.count(key)).toBe(1);
        expect(await a.leases.hold(key, 'a2', 2, 5000)).toBe(true);
        expect(await a.leases.count(fresh('sockets'))).toBe(0);
      });

      it('frees the leases nobody renews (a replica that died), and keeps the renewed ones', async () => {
        const key = fresh('sockets');
        expect(await a.leases.hold(key, 'kept', 2, 600)).toBe(true);
        expect(await b.leases.hold(key, 'orphan', 2, 600)).toBe(true);
        for (let i = 0; i < 5; i++) {
          await sleep(150);
          await a.leases.renew(key, ['kept'], 600);
        }
        expect(await b.leases.count(key)).toBe(1);
        // An expired lease is not revived by a renewal.
        await b.leases.renew(key, ['orphan'], 600);
        expect(await a.leases.count(key)).toBe(1);
        expect(await b.leases.hold(key, 'new', 2, 600)).toBe(true);
      });
    });

    describe('locks', () => {
      it('lets one replica at a time hold a lock', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLock(key, 1000);
        expect(lock).not.toBeNull();
        expect(await b.locks.tryLock(key, 1000)).toBeNull();
        expect(await a.locks.tryLock(key, 1000)).toBeNull();
        expect(await b.locks.tryLock(fresh('conv'), 1000)).not.toBeNull();
        await lock?.release();
      });

      it('lets another replica take a released lock', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLock(key, 1000);
        await lock?.release();
        await lock?.release();
        const next = await b.locks.tryLock(key, 1000);
        expect(next).not.toBeNull();
        // A second release of the old lock must not free the new holder's lock.
        await lock?.release();
        expect(await a.locks.tryLock(key, 1000)).toBeNull();
        await next?.release();
      });

      it('keeps a lock beyond its ttl while it is held', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLock(key, 300);
        await sleep(900);
        expect(await b.locks.tryLock(key, 300)).toBeNull();
        expect(lock?.signal.aborted).toBe(false);
        await lock?.release();
        const next = await b.locks.tryLock(key, 300);
        expect(next).not.toBeNull();
        await next?.release();
      });
    });

    describe('due marks', () => {
      it('reports a mark set while the lock was held to the holder, once', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLockDue(key, 1000);
        expect(lock).not.toBeNull();
        expect(await b.locks.tryLockDue(key, 1000)).toBeNull();
        expect(await lock?.releaseAndTakeDue()).toBe(true);
        // Taken: the next holder starts clean, and its release finds nothing.
        const again = await a.locks.tryLockDue(key, 1000);
        expect(again).not.toBeNull();
        expect(await again?.releaseAndTakeDue()).toBe(false);
      });

      it('clears the mark for whoever takes the lock: a plain release leaves it to the next holder', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLockDue(key, 1000);
        expect(await b.locks.tryLockDue(key, 1000)).toBeNull();
        await lock?.release();
        const next = await b.locks.tryLockDue(key, 1000);
        expect(next).not.toBeNull();
        expect(await next?.releaseAndTakeDue()).toBe(false);
        // A plain tryLock neither marks nor clears.
        const plain = await a.locks.tryLock(key, 1000);
        expect(await b.locks.tryLock(key, 1000)).toBeNull();
        await plain?.release();
        const last = await b.locks.tryLockDue(key, 1000);
        expect(await last?.releaseAndTakeDue()).toBe(false);
      });

      it('releases once: a second call answers as the first did', async () => {
        const key = fresh('conv');
        const lock = await a.locks.tryLockDue(key, 1000);
        expect(await b.locks.tryLockDue(key, 1000)).toBeNull();
        expect(await lock?.releaseAndTakeDue()).toBe(true);
        expect(await lock?.releaseAndTakeDue()).toBe(true);
        await lock?.release();
        expect(await b.locks.tryLockDue(key, 1000)).not.toBeNull();
      });

      // The race the marks close (see Locker.tryLockDue): a writer changes the state, then asks
      // for the key; a holder takes the key, reads the state, lets go and goes again while its
      // release reports a mark. In every order of the holder's first three steps and the
      // writer's two, somebody reads the state after the write.
      it('never loses a write, in any interleaving of a holder and a writer on two replicas', async () => {
        const orders = interleavings(['lock', 'read', 'release'], ['write', 'lock']);
        expect(orders).toHaveLength(10);
        for (const order of orders) {
          const key = fresh('conv');
          expect({ order, seen: await race(a, b, key, order, true) }).toEqual({ order, seen: 1 });
          // Nothing left behind for a later holder.
          const after = await a.locks.tryLockDue(key, 1000);
          expect(await after?.releaseAndTakeDue()).toBe(false);
        }
      });

      it('loses a write in some interleaving with plain locks and no look after the release', async () => {
        const losses = [];
        for (const order of interleavings(['lock', 'read', 'release'], ['write', 'lock'])) {
          if ((await race(a, b, fresh('conv'), order, false)) < 1) losses.push(order);
        }
        // The write between the holder's read and its release: nobody reads it.
        expect(losses).toContainEqual([0, 0, 1, 1, 0]);
      });
    });

    describe('dedupe', () => {
      it('says true only the first time a key is seen within the ttl', async () => {
        const key = fresh('update');
        expect(await a.dedupe.firstSeen(key, 300)).toBe(true);
        expect(await a.dedupe.firstSeen(key, 300)).toBe(false);
        expect(await b.dedupe.firstSeen(key, 300)).toBe(false);
        expect(await b.dedupe.firstSeen(fresh('update'), 300)).toBe(true);
        await sleep(350);
        expect(await b.dedupe.firstSeen(key, 300)).toBe(true);
      });
    });

    describe('close', () => {
      it('aborts held locks, reports unhealthy and refuses further work', async () => {
        const coordination = await target.single();
        const lock = await coordination.locks.tryLock(fresh('conv'), 1000);
        await coordination.close();
        await coordination.close();
        expect(lock?.signal.aborted).toBe(true);
        expect(CoordinationError.is(lock?.signal.reason, CoordinationErrorCode.LockLost)).toBe(
          true,
        );
        expect(coordination.health().ok).toBe(false);
        const closed = { code: CoordinationErrorCode.Closed };
        await expect(coordination.fanout.publish('c', { seq: 1 })).rejects.toMatchObject(closed);
        await expect(coordination.fanout.subscribe('c', () => {})).rejects.toMatchObject(closed);
        await expect(
          coordination.budgets.tryAcquire([{ key: 'k', limit: 1, windowMs: 1000 }]),
        ).rejects.toMatchObject(closed);
        await expect(coordination.quotas.hit('k', 1, 1000)).rejects.toMatchObject(closed);
        await expect(coordination.quotas.refund('k', 'u')).rejects.toMatchObject(closed);
        await expect(coordination.locks.tryLock('k')).rejects.toMatchObject(closed);
        await expect(coordination.dedupe.firstSeen('k', 1000)).rejects.toMatchObject(closed);
      });
    });
  });
}

type Step = 'write' | 'lock' | 'read' | 'release';

/**
 * One replica's way through `reconcile`, a step at a time: `lock` (tryLockDue, or tryLock
 * without marks), `read` the state, `release` (and go again from `lock` when the mark was
 * set); a writer first bumps the state's version. Done when the lock is refused or released
 * with nothing due.
 */
class Replica {
  seen = -1;
  done = false;
  #lock: DueLock | Lock | null = null;
  #next = 0;

  constructor(
    private readonly coordination: Coordination,
    private readonly key: string,
    private readonly state: { version: number },
    private readonly steps: readonly Step[],
    private readonly marks = true,
  ) {}

  async step(): Promise<void> {
    const step = this.steps[this.#next++];
    switch (step) {
      case 'write':
        this.state.version += 1;
        return;
      case 'lock': {
        const { locks } = this.coordination;
        this.#lock = this.marks
          ? await locks.tryLockDue(this.key, 5000)
          : await locks.tryLock(this.key, 5000);
        if (!this.#lock) this.done = true;
        return;
      }
      case 'read':
        this.seen = Math.max(this.seen, this.state.version);
        return;
      case 'release': {
        const lock = this.#lock;
        this.#lock = null;
        const again =
          lock && 'releaseAndTakeDue' in lock
            ? await lock.releaseAndTakeDue()
            : (await lock?.release(), false);
        if (again) this.#next = this.steps.indexOf('lock');
        else this.done = true;
        return;
      }
      case undefined:
        this.done = true;
    }
  }
}

/**
 * A holder on `a` and a writer on `b` take their first steps in `order` (0: the holder's,
 * 1: the writer's), then run to their end, the holder first; returns the newest version read.
 */
async function race(
  a: Coordination,
  b: Coordination,
  key: string,
  order: readonly number[],
  marks: boolean,
): Promise<number> {
  const state = { version: 0 };
  const holder = new Replica(a, key, state, ['lock', 'read', 'release'], marks);
  const writer = new Replica(b, key, state, ['write', 'lock', 'read', 'release'], marks);
  for (const who of order) await (who === 0 ? holder : writer).step();
  while (!holder.done || !writer.done) {
    if (!holder.done) await holder.step();
    if (!writer.done) await writer.step();
  }
  return Math.max(holder.seen, writer.seen);
}

/** Every merge of two step lists that keeps each list's order, as lists of 0 (first) and 1. */
function interleavings(first: readonly unknown[], second: readonly unknown[]): number[][] {
  if (first.length === 0) return [second.map(() => 1)];
  if (second.length === 0) return [first.map(() => 0)];
  return [
    ...interleavings(first.slice(1), second).map((rest) => [0, ...rest]),
    ...interleavings(first, second.slice(1)).map((rest) => [1, ...rest]),
  ];
}
