import type { ConversationRecord } from '@topicdesk/data';

/** The export format's name and version (in every export, so a reader knows what it holds). */
export const EXPORT_FORMAT = 'topicdesk.conversation-export/1';

/** A file as the export lists it: stored metadata, and a short-lived link when it is checked. */
export type ExportedFile = {
  id?: string | undefined;
  name?: string | undefined;
  state: string;
  url?: string | undefined;
  urlExpiresAt?: string | undefined;
  messageId: number | null;
} & Record<string, unknown>;

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);

/** Everything stored about one conversation, as the export shows it (JSON). */
export function conversationExport(
  record: ConversationRecord,
  files: readonly ExportedFile[],
  at: Date,
) {
  const c = record.conversation;
  const seqOf = new Map(record.messages.map((m) => [m.id, m.seq]));
  const user = record.telegramUser;
  return {
    format: EXPORT_FORMAT,
    exportedAt: at.toISOString(),
    conversation: {
      id: c.id,
      ticket: c.ticket,
      channel: c.channel,
      status: c.status,
      priority: c.priority,
      level: c.level,
      createdAt: iso(c.created_at),
      lastActivityAt: iso(c.last_activity_at),
      closedAt: iso(c.closed_at),
      firstResponseAt: iso(c.first_response_at),
      groupChatId: c.group_chat_id,
      topicId: c.topic_id,
      claimedBy: c.claimed_at ? { name: c.claimed_by_name, at: iso(c.claimed_at) } : null,
    },
    visitor: {
      name: c.visitor_name,
      email: c.visitor_email,
      locale: c.locale,
      page: c.page_url || c.page_title ? { url: c.page_url, title: c.page_title } : null,
      visitorReadSeq: c.visitor_read_seq,
      // The Telegram user id is stored only encrypted; the export names the row, not the id.
      telegram: user
        ? {
            userRef: user.id,
            languageCode: user.language_code,
            firstSeenAt: iso(user.created_at),
            lastSeenAt: iso(user.last_seen_at),
          }
        : null,
    },
    messages: record.messages.map((m) => ({
      seq: m.seq,
      kind: m.kind,
      text: m.text,
      author: m.author_name,
      at: iso(m.created_at),
      editedAt: iso(m.edited_at),
      deletedAt: iso(m.deleted_at),
      delivery: m.delivery,
      edits: record.edits
        .filter((e) => e.message_id === m.id)
        .map((e) => ({ previousText: e.previous_text, editedAt: iso(e.edited_at) })),
    })),
    attachments: files.map(({ messageId, ...file }) => ({
      ...file,
      messageSeq: messageId === null ? null : (seqOf.get(messageId) ?? null),
    })),
    notes: record.notes.map((n) => ({
      author: n.author_name,
      text: n.text,
      at: iso(n.created_at),
    })),
    rating: record.rating
      ? {
          score: record.rating.score,
          comment: record.rating.comment,
          channel: record.rating.channel,
          at: iso(record.rating.created_at),
        }
      : null,
    escalations: record.escalations.map((e) => ({
      fromLevel: e.from_level,
      toLevel: e.to_level,
      reason: e.reason,
      by: { type: e.by_type, id: e.by_id },
      at: iso(e.created_at),
    })),
    slaEvents: record.slaEvents.map((e) => ({
      target: e.target,
      kind: e.kind,
      priority: e.priority,
      targetSeconds: e.target_seconds,
      businessHours: e.business_hours,
      escalation: e.escalation,
      at: iso(e.created_at),
    })),
    audit: record.audit.map((e) => ({
      id: e.id,
      at: iso(e.created_at),
      actor: { type: e.actor_type, id: e.actor_id },
      action: e.action,
      details: e.details,
    })),
  };
}

export type ConversationExport = ReturnType<typeof conversationExport>;

const stamp = (at: string | null) => (at ? `${at.slice(0, 19).replace('T', ' ')} UTC` : '—');

const WHO: Record<string, (author: string | null) => string> = {
  visitor: (author) => `Visitor${author ? ` (${author})` : ''}`,
  agent: (author) => author ?? 'Support',
  system: () => 'System',
};

/** A readable transcript of an export (text/plain): what a visitor asking for their data reads. */
export function exportTranscript(view: ConversationExport): string {
  const c = view.conversation;
  const v = view.visitor;
  const lines = [
    `Conversation ${c.ticket} (${c.id})`,
    `Channel: ${c.channel} · Status: ${c.status} · Started: ${stamp(c.createdAt)}` +
      (c.closedAt ? ` · Closed: ${stamp(c.closedAt)}` : ''),
  ];
  if (v.name || v.email)
    lines.push(`Visitor: ${[v.name, v.email ? `<${v.email}>` : null].filter(Boolean).join(' ')}`);
  if (v.page) lines.push(`Page: ${[v.page.title, v.page.url].filter(Boolean).join(' — ')}`);
  if (v.locale) lines.push(`Language: ${v.locale}`);
  lines.push(`Exported: ${stamp(view.exportedAt)}`, '');
  for (const m of view.messages) {
    const who = (WHO[m.kind] ?? WHO['system']!)(m.author);
    const text = m.deletedAt ? '(retracted) ' + m.text : m.text;
    lines.push(`[${stamp(m.at)}] ${who}: ${text}${m.editedAt ? ' (edited)' : ''}`);
    for (const file of view.attachments.filter((f) => f.messageSeq === m.seq))
      lines.push(`    [file: ${file.name ?? file.id ?? 'file'} (${file.state})]`);
  }
  if (view.notes.length > 0) {
    lines.push('', 'Internal notes:');
    for (const n of view.notes) lines.push(`[${stamp(n.at)}] ${n.author}: ${n.text}`);
  }
  if (view.rating)
    lines.push(
      '',
      `Rating: ${view.rating.score}/5${view.rating.comment ? ` — ${view.rating.comment}` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
