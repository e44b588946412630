import type { MessageView, RunningSandbox } from '@topicdesk/telegram-sandbox';
import type { ALICE } from './agents';

/**
 * `user` sends /console to the bot in a private chat; the bot's answer carrying a fresh sign-in
 * link, and the link's token. The link names the console's public URL, which a test follows on
 * a gateway of its own (`/console/sign-in?t=<token>`).
 */
export async function consoleLink(
  sandbox: RunningSandbox,
  user: typeof ALICE,
): Promise<{ token: string; answer: MessageView }> {
  const bot = () => sandbox.state.messages({ chatId: user.id, fromBot: true });
  const before = bot().length;
  sandbox.state.injectMessage({ chatId: user.id, text: '/console', from: user });
  const answer = await sandbox.state.waitFor(
    () =>
      bot()
        .slice(before)
        .find((m) => m.text?.includes('/sign-in?t=')),
    20_000,
  );
  const token = new URL(/https?:\/\/\S+/.exec(answer.text ?? '')![0]).searchParams.get('t')!;
  return { token, answer };
}
