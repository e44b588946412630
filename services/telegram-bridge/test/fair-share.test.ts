import { randomBytes } from 'node:crypto';
import { topics } from '@topicdesk/bus';
import { TenantKeyring, TenantService, type Conversation } from '@topicdesk/core';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, startBridgeUnderTest, type BridgeUnderTest } from './bridge-under-test';
import { startPacedSandbox } from './paced-sandbox';

const KEK = `k1:${randomBytes(32).toString('base64')}`;
const token = (id: number) => `${id}:fair-share-test`;
const FLOOD = { id: 'flood', bot: 200000051, group: -1001000000051 };
const CALM = { id: 'calm', bot: 200000052, group: -1001000000052 };
/** Each bot may make this many calls per window in a group (Telegram's 20 a minute, faster). */
const PER_WINDOW = 2;
const WINDOW_MS = 2000;
/** The sync consumer's slots; each tenant's fair share is max(8, 16 ÷ 3 tenants) = 8. */
const IN_FLIGHT = 16;
const FLOODING = 30;

// Issue 16: one tenant flooding at its bot's limit must not slow another tenant's sends. The
// sync consumer's slots are shared by every tenant and a sync waiting for its bot's budget holds
// one: without a fair share the flooding tenant's conversations would hold them all, and the
// calm tenant's first message would wait behind the whole flood (a minute here). On the real
// NATS and Redis: JetStream's maxAckPending is what the flood would exhaust.
describe("the sync's fair share across tenants", () => {
  let under: BridgeUnderTest;
  let sandbox: RunningSandbox;

  beforeAll(async () => {
    under = await startBridgeUnderTest({
      name: 'fair_share',
      distributed: true,
      token: token(200000050),
      sandbox: () => startPacedSandbox(GROUP, PER_WINDOW, WINDOW_MS),
      env: {
        TENANT_KEK: KEK,
        TELEGRAM_SYNC_IN_FLIGHT: String(IN_FLIGHT),
        TELEGRAM_LIMIT_GROUP_PER_MINUTE: String(PER_WINDOW),
        TELEGRAM_LIMIT_GROUP_WINDOW: `${WINDOW_MS}ms`,
        TELEGRAM_LIMIT_CHAT_PER_SECOND: '30',
      },
    });
    sandbox = under.sandbox;
    const bus = under.runtime.infra.bus;
    const tenants = new TenantService(
      under.uow,
      TenantKeyring.fromEnv(KEK, undefined),
      (tenantId) => bus.signal(topics.tenantChanged, { tenantId }),
    );
    for (const tenant of [FLOOD, CALM]) {
      sandbox.state.world.addForum(tenant.group, tenant.id);
      await tenants.create('platform-test', {
        id: tenant.id,
        name: tenant.id,
        secrets: { botToken: token(tenant.bot), supportGroups: [String(tenant.group)] },
      });
    }
  });

  afterAll(async () => {
    await under?.close();
  });

  async function conversation(tenantId: string, text: string): Promise<Conversation> {
    const c = await under.service.start({ tenantId, channel: 'web' });
    await under.service.postVisitorMessage({
      tenantId,
      conversationId: c.id,
      clientId: `${c.id}-1`,
      text,
    });
    return c;
  }

  const topicsOf = (group: number) => sandbox.state.topics(group).length;

  it("brings the calm tenant's message to its topic within seconds while the other floods", async () => {
    for (let i = 0; i < FLOODING; i++) await conversation(FLOOD.id, `flood ${i}`);
    // The flood is under way: its bot works through its budget, a topic at a time.
    await sandbox.state.waitFor(() => topicsOf(FLOOD.group) >= 1, 10_000);

    const start = Date.now();
    await conversation(CALM.id, 'a calm visitor');
    await sandbox.state.waitFor(
      () =>
        sandbox.state
          .messages({ chatId: CALM.group })
          .some((m) => m.text?.includes('a calm visitor')),
      10_000,
    );
    const took = Date.now() - start;
    // Its own bot's budget paces it (a topic, then the text): a few seconds, not the flood's minute.
    expect(took).toBeLessThan(8_000);
    // The flood was still far from done: most of its conversations had no topic yet.
    expect(topicsOf(FLOOD.group)).toBeLessThan(FLOODING / 2);
  }, 30_000);
});
