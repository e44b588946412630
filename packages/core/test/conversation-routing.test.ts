import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationRepository,
  DEFAULT_TENANT_ID,
  SupportGroupRepository,
  type Conversation,
} from '@topicdesk/data';
import {
  ConversationService,
  UnitOfWork,
  OutboxRelay,
  type Infrastructure,
  type StartConversationInput,
} from '../src/index';
import { coreFixture, type CoreFixture } from './support/core-fixture';

const GERMAN = -1001000000101;
const FRENCH = -1001000000102;
const ESCALATION = -1001000000103;
const VIP_FRENCH = -1001000000104;
const PROVIDERS = -1001000000105;

describe('routing a new conversation to a support group', () => {
  let fixture: CoreFixture;
  let infra: Infrastructure;
  let relay: OutboxRelay;
  let service: ConversationService;

  beforeAll(async () => {
    // Real Postgres; the bus and fanout of one-process mode (routing only writes rows).
    fixture = await coreFixture();
    ({ infra } = fixture);
    const { logger } = fixture;
    relay = new OutboxRelay({
      db: infra.database.db,
      bus: infra.bus,
      fanout: infra.coordination.fanout,
      logger,
    });
    service = new ConversationService(new UnitOfWork(infra.database.db, relay));
    const groups = new SupportGroupRepository(infra.database.db);
    await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: GERMAN, locales: ['de'] });
    await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: FRENCH, locales: ['fr-CA'] });
    await groups.upsert({
      tenantId: DEFAULT_TENANT_ID,
      chatId: ESCALATION,
      level: 2,
      locales: ['es'],
    });
    // Segment groups (issue 19), registered after the locale groups they win over.
    await groups.upsert({
      tenantId: DEFAULT_TENANT_ID,
      chatId: VIP_FRENCH,
      locales: ['fr-CA'],
      segments: ['vip'],
    });
    await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: PROVIDERS, segments: ['provider'] });
  });

  afterAll(async () => {
    await relay.stop();
    await fixture.close();
  });

  const startWeb = (locale?: string) =>
    service.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web', locale });
  // A private chat starts its conversation inside the unit of work of the update that asked.
  const startTelegram = (locale?: string, segment?: string) => {
    const input: StartConversationInput = {
      tenantId: DEFAULT_TENANT_ID,
      channel: 'telegram',
      locale,
      segment,
    };
    return new UnitOfWork(infra.database.db, relay).run((work) => service.startIn(work, input));
  };
  const stored = async (conversation: Conversation) =>
    (await new ConversationRepository(infra.database.db).get(DEFAULT_TENANT_ID, conversation.id))
      .group_chat_id;

  it('puts a web visitor into the group of their language', async () => {
    const conversation = await startWeb('de-AT');
    expect(conversation.group_chat_id).toBe(GERMAN);
    expect(await stored(conversation)).toBe(GERMAN);
  });

  it('puts a Telegram user of the private chat into the group of their language', async () => {
    const conversation = await startTelegram('fr');
    expect(await stored(conversation)).toBe(FRENCH);
  });

  it('leaves unmatched, absent and malformed locales and escalation-only locales in the default group', async () => {
    for (const conversation of [
      await startWeb('en'),
      await startWeb(),
      await startWeb('de_AT'),
      await startWeb('es'),
      await startTelegram(),
    ]) {
      expect(await stored(conversation)).toBeNull();
    }
  });

  it('puts a bot channel user into the group of their segment before the group of their locale', async () => {
    expect(await stored(await startTelegram('de', 'provider'))).toBe(PROVIDERS);
    expect(await stored(await startTelegram(undefined, 'provider'))).toBe(PROVIDERS);
    expect(await stored(await startTelegram('fr-CA', 'vip'))).toBe(VIP_FRENCH);
    // The same locale without the segment stays with the locale's group.
    expect(await stored(await startTelegram('fr-CA'))).toBe(FRENCH);
  });

  it('falls back to the locale, then the default group, when no group takes the segment', async () => {
    // The VIP group serves French only.
    expect(await stored(await startTelegram('de', 'vip'))).toBe(GERMAN);
    expect(await stored(await startTelegram('en', 'vip'))).toBeNull();
    expect(await stored(await startTelegram('de', 'client'))).toBe(GERMAN);
    expect(await stored(await startTelegram(undefined, 'client'))).toBeNull();
  });

  it('stores the segments a group lists', async () => {
    const group = await new SupportGroupRepository(infra.database.db).find(
      DEFAULT_TENANT_ID,
      VIP_FRENCH,
    );
    expect(group?.segments).toEqual(['vip']);
  });

  it('stops routing to a deactivated group and leaves its conversations there', async () => {
    const before = await startWeb('de');
    await new SupportGroupRepository(infra.database.db).deactivate(DEFAULT_TENANT_ID, GERMAN);
    const after = await startWeb('de');
    expect(await stored(before)).toBe(GERMAN);
    expect(await stored(after)).toBeNull();
  });
});
