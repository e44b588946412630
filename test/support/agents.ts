import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { GROUP_ID } from './cluster';

export const ALICE = {
  id: 7001,
  first_name: 'Alice',
  last_name: 'Agentova',
  username: 'alice_agent',
};
export const BOB = {
  id: 7002,
  first_name: 'Bob',
  last_name: 'Builder',
  username: 'bob_the_member',
};

/** An agent (or any group member) writes in a topic, or in General without a thread id. */
export function say(
  sandbox: RunningSandbox,
  from: typeof ALICE,
  text: string,
  threadId?: number,
  replyTo?: number,
) {
  return sandbox.state.injectMessage({
    chatId: GROUP_ID,
    text,
    from,
    ...(threadId !== undefined ? { messageThreadId: threadId } : {}),
    ...(replyTo !== undefined ? { replyToMessageId: replyTo } : {}),
  });
}

/** Texts the bot posted in a topic (or General with threadId 1), header included, in order. */
export function botPosts(sandbox: RunningSandbox, threadId: number): string[] {
  return sandbox.state
    .messages({ chatId: GROUP_ID, threadId, fromBot: true })
    .filter((m) => m.service === null && typeof m.text === 'string')
    .map((m) => m.text as string);
}

/** Waits until the bot posted a text containing `fragment` in the topic; returns it. */
export function botPosted(
  sandbox: RunningSandbox,
  threadId: number,
  fragment: string,
  timeoutMs = 10_000,
): Promise<string> {
  return sandbox.state.waitFor(
    () => botPosts(sandbox, threadId).find((t) => t.includes(fragment)),
    timeoutMs,
  );
}

/** The pinned header of a topic. */
export function header(sandbox: RunningSandbox, threadId: number) {
  return sandbox.state
    .messages({ chatId: GROUP_ID, threadId, fromBot: true })
    .find((m) => m.replyMarkup !== null);
}

export function topicName(sandbox: RunningSandbox, threadId: number): string | undefined {
  return sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId)?.name;
}

export function topicClosed(sandbox: RunningSandbox, threadId: number): boolean | undefined {
  return sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId)?.closed;
}

/** Admin API call with the service token. */
export async function admin(
  gatewayUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
