import type { Conversation } from '@topicdesk/core';
import { describe, expect, it } from 'vitest';
import {
  headerKeyboard,
  headerText,
  parseCallbackData,
  topicName,
  topicStatus,
} from './topic-presentation';

const created = new Date('2025-01-02T03:04:05.000Z');
const ID = '9b2f3c1e-4a5d-4e6f-8a7b-1c2d3e4f5a6b';
const TICKET = 'SUPP-ABC123-XY12';

// Only the columns these functions read matter; the cast keeps the fixture valid as the
// conversations table grows new columns.
function conversation(fields: Partial<Conversation> = {}): Conversation {
  const row: Partial<Conversation> = {
    id: ID,
    tenant_id: 'default',
    ticket: TICKET,
    channel: 'web',
    status: 'open',
    visitor_name: null,
    visitor_email: null,
    locale: null,
    page_url: null,
    page_title: null,
    topic_id: null,
    topic_closed: false,
    last_seq: 0,
    created_at: created,
    updated_at: created,
    last_activity_at: created,
    closed_at: null,
    claimed_at: null,
    claimed_by_name: null,
    priority: 'normal',
    level: 1,
    ...fields,
  };
  return row as Conversation;
}

const claimed = { claimed_at: created, claimed_by_name: 'Maria' };

describe('topicStatus', () => {
  it('is new while nobody claimed the conversation', () => {
    expect(topicStatus(conversation())).toBe('new');
  });

  it('is claimed once an agent claimed it', () => {
    expect(topicStatus(conversation(claimed))).toBe('claimed');
  });

  it('is closed once the conversation is closed, claimed or not', () => {
    expect(topicStatus(conversation({ status: 'closed', ...claimed }))).toBe('closed');
  });
});

describe('topicName', () => {
  it('is the status icon, the ticket and the visitor name', () => {
    expect(topicName(conversation({ visitor_name: 'Ada' }))).toBe(`🟢 ${TICKET} · Ada`);
  });

  it('prefers the visitor name over the page title', () => {
    expect(
      topicName(
        conversation({
          visitor_name: 'Ada',
          page_title: 'Pricing',
          page_url: 'https://shop.example/p',
        }),
      ),
    ).toBe(`🟢 ${TICKET} · Ada`);
  });

  it('uses the page title when there is no name', () => {
    expect(
      topicName(conversation({ page_title: 'Pricing', page_url: 'https://shop.example/p' })),
    ).toBe(`🟢 ${TICKET} · Pricing`);
  });

  it('uses the page host (with its port) when there is neither name nor title', () => {
    expect(
      topicName(conversation({ page_url: 'https://shop.example.com:8443/cart?item=1#top' })),
    ).toBe(`🟢 ${TICKET} · shop.example.com:8443`);
  });

  it('uses the page host when the title is empty', () => {
    expect(topicName(conversation({ page_title: '', page_url: 'https://shop.example/' }))).toBe(
      `🟢 ${TICKET} · shop.example`,
    );
  });

  it('is the ticket alone when there is no context or the page URL does not parse', () => {
    expect(topicName(conversation())).toBe(`🟢 ${TICKET}`);
    expect(topicName(conversation({ page_url: 'not a url' }))).toBe(`🟢 ${TICKET}`);
  });

  it('leaves out a title made of whitespace only, separator included', () => {
    expect(topicName(conversation({ page_title: ' \n\t ' }))).toBe(`🟢 ${TICKET}`);
  });

  it('collapses runs of whitespace and trims the context', () => {
    expect(topicName(conversation({ visitor_name: '  Ada \n\t  Lovelace  ' }))).toBe(
      `🟢 ${TICKET} · Ada Lovelace`,
    );
  });

  it('names the claiming agent while the conversation is claimed', () => {
    expect(topicName(conversation({ visitor_name: 'Ada', ...claimed }))).toBe(
      `🟡 ${TICKET} · Ada → Maria`,
    );
  });

  it('shows a closed conversation without its claimer', () => {
    expect(topicName(conversation({ visitor_name: 'Ada', status: 'closed', ...claimed }))).toBe(
      `⚪ ${TICKET} · Ada`,
    );
  });

  it('shows the level of an escalated conversation after the ticket, and no level 1', () => {
    expect(topicName(conversation({ level: 2, visitor_name: 'Ada' }))).toBe(
      `🟢 ${TICKET} · L2 · Ada`,
    );
    expect(topicName(conversation({ level: 1, visitor_name: 'Ada' }))).toBe(`🟢 ${TICKET} · Ada`);
  });

  it('cuts the name at 128 characters', () => {
    const name = topicName(conversation({ page_title: 'p'.repeat(300) }));
    expect(name).toHaveLength(128);
    expect(name.startsWith(`🟢 ${TICKET} · ppp`)).toBe(true);
  });

  it('counts the 128 in UTF-16 units as Telegram does, and never splits a surrogate pair', () => {
    const name = topicName(conversation({ page_title: '😀'.repeat(200) }));
    expect(name.length).toBeLessThanOrEqual(128);
    expect(name.length).toBeGreaterThanOrEqual(127);
    expect([...name].at(-1)).toBe('😀');
  });
});

describe('headerText', () => {
  it('shows the level of an escalated conversation, and no line for level 1', () => {
    expect(headerText(conversation({ level: 3 })).split('\n')).toContain('Level: ⬆️ L3');
    expect(
      headerText(conversation())
        .split('\n')
        .some((l) => l.startsWith('Level:')),
    ).toBe(false);
  });

  it('shows a priority other than normal under the status', () => {
    expect(
      headerText(conversation({ priority: 'high' }))
        .split('\n')
        .slice(1, 3),
    ).toEqual(['Status: 🟢 new — not claimed yet', 'Priority: 🔴 high']);
    expect(headerText(conversation({ priority: 'low' }))).toContain('\nPriority: 🔵 low\n');
    expect(headerText(conversation())).not.toContain('Priority');
  });

  it('lists the ticket, the status and what the visitor told us', () => {
    const text = headerText(
      conversation({
        visitor_name: 'Ada',
        locale: 'pt-BR',
        page_title: 'Pricing',
        page_url: 'https://shop.example/p',
      }),
    );
    expect(text.split('\n')).toEqual([
      `🎫 ${TICKET}`,
      'Status: 🟢 new — not claimed yet',
      'Visitor: Ada',
      'Locale: pt-BR',
      'Page: Pricing — https://shop.example/p',
      'Channel: website widget',
    ]);
  });

  it('shows the pre-chat form’s e-mail address on a line of its own, under the name', () => {
    const text = headerText(
      conversation({ visitor_name: 'Ada', visitor_email: 'ada@example.com', locale: 'en' }),
    );
    expect(text.split('\n')).toEqual([
      `🎫 ${TICKET}`,
      'Status: 🟢 new — not claimed yet',
      'Visitor: Ada',
      'E-mail: ada@example.com',
      'Locale: en',
      'Channel: website widget',
    ]);
    expect(headerText(conversation({ visitor_email: 'ada@example.com' })).split('\n')).toContain(
      'E-mail: ada@example.com',
    );
  });

  it('keeps a header with every field at its longest within 1,024 characters, the e-mail whole', () => {
    const email = `${'a'.repeat(64)}@${'d'.repeat(185)}.com`;
    const text = headerText(
      conversation({
        ticket: 'SUPP-MZZZZZZZ-ZZZZ',
        ...claimed,
        claimed_by_name: 'M'.repeat(200),
        visitor_name: 'N'.repeat(200),
        visitor_email: email,
        locale: `en${'-abcdefgh'.repeat(10)}`,
        page_title: 'T'.repeat(500),
        page_url: `https://shop.example/${'p'.repeat(2000)}`,
      }),
    );
    expect(text.length).toBeLessThanOrEqual(1024);
    expect(text.split('\n')).toContain(`E-mail: ${email}`);
    expect(text.endsWith('Channel: website widget')).toBe(true);
  });

  it('leaves out what the visitor did not give', () => {
    expect(headerText(conversation()).split('\n')).toEqual([
      `🎫 ${TICKET}`,
      'Status: 🟢 new — not claimed yet',
      'Channel: website widget',
    ]);
  });

  it('names the claiming agent and the Telegram channel', () => {
    const lines = headerText(conversation({ channel: 'telegram', ...claimed })).split('\n');
    expect(lines).toContain('Status: 🟡 claimed by Maria');
    expect(lines).toContain('Channel: Telegram bot');
  });
});

describe('headerKeyboard', () => {
  const labels = (c: Conversation) =>
    headerKeyboard(c)
      .inline_keyboard.flat()
      .map((button) => button.text);

  it('offers claim and close on a new conversation, unclaim and close on a claimed one', () => {
    expect(labels(conversation())).toEqual(['✋ Claim', '✅ Close']);
    expect(labels(conversation(claimed))).toEqual(['↩️ Unclaim', '✅ Close']);
  });

  it('offers only reopen on a closed conversation', () => {
    expect(labels(conversation({ status: 'closed' }))).toEqual(['🔄 Reopen']);
  });

  it('puts callback data that parseCallbackData reads back, within 64 bytes', () => {
    for (const button of headerKeyboard(conversation()).inline_keyboard.flat()) {
      const data = 'callback_data' in button ? button.callback_data : undefined;
      expect(Buffer.byteLength(data ?? '')).toBeLessThanOrEqual(64);
      expect(parseCallbackData(data)?.conversationId).toBe(ID);
    }
  });
});

describe('parseCallbackData', () => {
  it.each(['claim', 'unclaim', 'close', 'reopen'] as const)('reads td:%s:<id>', (action) => {
    expect(parseCallbackData(`td:${action}:${ID}`)).toEqual({ action, conversationId: ID });
  });

  it.each([
    undefined,
    '',
    `td:delete:${ID}`,
    `td:claim:${ID}x`,
    'td:claim:not-a-uuid',
    `xx:claim:${ID}`,
  ])('refuses %j', (data) => {
    expect(parseCallbackData(data)).toBeUndefined();
  });
});

describe('an erased conversation', () => {
  it('names its kept topic after the tombstone, without what was erased', () => {
    const erased = conversation({ status: 'closed', erased_at: created, visitor_name: null });
    expect(topicName(erased)).toBe(`⚪ ${TICKET} · data erased`);
  });
});
