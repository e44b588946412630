import { describe, expect, it } from 'vitest';
import type { DueSlaTarget } from '@topicdesk/data';
import { slaPost } from './sla-posts';

const due: DueSlaTarget = {
  tenantId: 'default',
  conversationId: '00000000-0000-4000-8000-000000000001',
  ticket: 'SUPP-ABC123',
  priority: 'high',
  target: 'first_response',
  kind: 'reminder',
  targetSeconds: 900,
  businessHours: false,
  elapsedSeconds: 720,
  claimedBy: null,
};

describe('SLA posts', () => {
  it('says how long is left before the target in a reminder', () => {
    expect(slaPost(due)).toEqual({
      text: '⏳ SLA: SUPP-ABC123 first response due in 3 min (target 15 min, high priority).',
      entities: [],
    });
  });

  it('announces a breach in business hours and mentions the agent who holds the conversation', () => {
    const post = slaPost({
      ...due,
      kind: 'breach',
      target: 'resolution',
      businessHours: true,
      claimedBy: { telegramUserId: 7001, name: 'Alice M.' },
    });
    expect(post.text).toBe(
      '🚨 SLA breached: SUPP-ABC123 resolution target (15 min, high priority, business hours) has passed.\n👤 Alice M.',
    );
    const [mention] = post.entities;
    // Offsets count UTF-16 units, as Telegram's do: the emoji take two each.
    expect(post.text.slice(mention!.offset, mention!.offset + mention!.length)).toBe('Alice M.');
    expect(mention).toMatchObject({ type: 'text_mention', user: { id: 7001 } });
  });
});
