import { createInProcessCoordination } from '@topicdesk/fanout';
import { createLogger } from '@topicdesk/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { activityChannel, ActivitySignal } from './activity';

describe('the activity signal', () => {
  const coordination = createInProcessCoordination();
  let signal: ActivitySignal | undefined;
  afterEach(() => signal?.stop());

  it('tells the first change at once and a burst after it once more at the end of the interval', async () => {
    const heard: number[] = [];
    const began = Date.now();
    await coordination.fanout.subscribe(activityChannel('t1'), () =>
      heard.push(Date.now() - began),
    );
    signal = new ActivitySignal(
      coordination.fanout,
      createLogger({ service: 'test', level: 'silent' }),
      100,
    );
    for (let i = 0; i < 20; i++) signal.changed('t1');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(heard).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(heard).toHaveLength(2);
    expect(heard[1]!).toBeGreaterThanOrEqual(95);
    // Quiet since: nothing more.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(heard).toHaveLength(2);
  });

  it('keeps tenants apart', async () => {
    const heard: string[] = [];
    await coordination.fanout.subscribe(activityChannel('a'), () => heard.push('a'));
    await coordination.fanout.subscribe(activityChannel('b'), () => heard.push('b'));
    signal = new ActivitySignal(
      coordination.fanout,
      createLogger({ service: 'test', level: 'silent' }),
      100,
    );
    signal.changed('a');
    signal.changed('b');
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(heard.sort()).toEqual(['a', 'b']);
  });
});
