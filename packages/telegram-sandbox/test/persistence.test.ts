import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxState } from '../src/index';
import { AGENT, startHarness } from './fixtures';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'telegram-sandbox-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps topics, messages, ids and pending updates across a restart', async () => {
    const statePath = join(dir, 'nested', 'sandbox.json');
    const first = await startHarness({ statePath });
    const { message_thread_id: thread } = await first.bot.api.createForumTopic(first.group, 'Kept');
    const sent = await first.bot.api.sendMessage(first.group, 'still here', {
      message_thread_id: thread,
    });
    await first.bot.api.closeForumTopic(first.group, thread);
    first.sandbox.state.injectMessage({
      chatId: first.group,
      text: 'agent note',
      from: AGENT,
      messageThreadId: thread,
    });
    const pending = first.sandbox.state.pendingUpdates().length;
    await first.sandbox.close();

    const saved = JSON.parse(await readFile(statePath, 'utf8')) as { version: number };
    expect(saved.version).toBe(1);

    const second = await startHarness({ statePath });
    try {
      expect(second.sandbox.state.topics()).toEqual([
        expect.objectContaining({ threadId: thread, name: 'Kept', closed: true, deleted: false }),
      ]);
      const texts = second.sandbox.state
        .messages({ threadId: thread })
        .map((view) => view.text ?? view.service);
      expect(texts).toEqual([
        'forum_topic_created',
        'still here',
        'forum_topic_closed',
        'agent note',
      ]);
      expect(second.sandbox.state.pendingUpdates()).toHaveLength(pending);

      await second.bot.api.reopenForumTopic(second.group, thread);
      const next = await second.bot.api.sendMessage(second.group, 'after restart', {
        message_thread_id: thread,
      });
      expect(next.message_id).toBeGreaterThan(sent.message_id + 2);
      const updates = await second.bot.api.getUpdates();
      const ids = updates.map((update) => update.update_id);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
    } finally {
      await second.sandbox.close();
    }
  });

  it('saves a change within the debounce and flushes on demand', async () => {
    const statePath = join(dir, 'state.json');
    const state = new SandboxState({ statePath });
    try {
      state.injectMessage({ chatId: 555, text: 'visitor', from: { id: 555, first_name: 'V' } });
      await state.flush();
      const saved = JSON.parse(await readFile(statePath, 'utf8')) as {
        chats: Array<{ chat: { id: number } }>;
      };
      expect(saved.chats.map((chat) => chat.chat.id)).toContain(555);

      state.injectMessage({ chatId: 555, text: 'again', from: { id: 555, first_name: 'V' } });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const debounced = await readFile(statePath, 'utf8');
      expect(debounced).toContain('again');
    } finally {
      await state.close();
    }
  });

  it("keeps bots' membership across a restart and reads files saved before membership existed", async () => {
    const statePath = join(dir, 'members.json');
    const first = new SandboxState({ statePath });
    first.setMember(first.supergroupId, 200000002, 'administrator', { can_pin_messages: false });
    await first.close();
    const second = new SandboxState({ statePath });
    try {
      expect(second.members()).toEqual([
        {
          userId: 200000002,
          status: 'administrator',
          can_manage_topics: true,
          can_pin_messages: false,
          can_delete_messages: true,
        },
      ]);
    } finally {
      await second.close();
    }

    const saved = JSON.parse(await readFile(statePath, 'utf8')) as {
      chats: Array<Record<string, unknown>>;
    };
    for (const chat of saved.chats) delete chat['botMembers'];
    await writeFile(statePath, JSON.stringify(saved));
    const old = new SandboxState({ statePath });
    try {
      expect(old.members()).toEqual([]);
    } finally {
      await old.close();
    }
  });

  it('refuses a file that is not a sandbox state', async () => {
    const statePath = join(dir, 'other.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(statePath, '{"hello":1}'));
    expect(() => new SandboxState({ statePath })).toThrow(/not a telegram-sandbox state file/);
  });
});
