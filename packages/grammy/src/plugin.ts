import { Composer, type Context } from 'grammy';
import { parseCallbackData, type TopicdeskButton } from './buttons.js';
import {
  TopicdeskClient,
  TopicdeskUnavailableError,
  type ClientOptions,
  type TurnAnswer,
  type TurnInput,
} from './client.js';
import { SupportSessions } from './sessions.js';

/** A value of the owner's, fixed or from the update. */
export type PerUser<C extends Context> =
  string | ((ctx: C) => string | undefined | Promise<string | undefined>);

export interface TopicdeskOptions<C extends Context = Context> extends ClientOptions {
  /**
   * The user's role or segment in your bot (client, provider, vip…): agents see it in the topic
   * header and priority rules may match it. Never a name, phone or id. At most 32 letters,
   * digits, spaces, `_ . -`.
   */
  segment?: PerUser<C> | undefined;
  /** The language of Topicdesk's texts for the user (default: their Telegram language). */
  locale?: PerUser<C> | undefined;
  /** The command that starts support (default `support`: `/support`). */
  command?: string | undefined;
  /** Told to the user when Topicdesk cannot be reached after every retry. */
  unavailableText?: string | undefined;
  /** Told to a user in support who sends something other than text. */
  textOnlyText?: string | undefined;
  /**
   * Called with what went wrong talking to Topicdesk (default: console.error). Topicdesk being
   * away does not throw into your bot: the user is told, and this is called.
   */
  onError?: ((error: unknown, ctx: C) => void) | undefined;
}

/** What the plugin adds to the context: `ctx.topicdesk`. */
export interface TopicdeskControl {
  /** Whether the user of this update is in a support conversation. */
  readonly inSupport: boolean;
  /** Starts support for the user (or tells them they are connected already), as `/support`. */
  start(): Promise<void>;
}

export interface TopicdeskFlavor {
  topicdesk: TopicdeskControl;
}

const DEFAULTS = {
  command: 'support',
  unavailableText: 'Support cannot be reached right now. Please try again in a few minutes.',
  textOnlyText: 'Only text messages reach our support team. Please describe it in words.',
};

/** Telegram's language_code, if it is a language tag (Topicdesk refuses anything else). */
function languageTag(code: string | undefined): string | undefined {
  return code && /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(code) && code.length <= 35
    ? code
    : undefined;
}

/** `/name@bot args` of a message; undefined when the text is not a command. */
export function parseCommand(text: string | undefined): { name: string; args: string } | undefined {
  const match = text ? /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text) : null;
  if (!match) return undefined;
  return { name: (match[1] as string).toLowerCase(), args: (match[2] ?? '').trim() };
}

/**
 * Live support from Topicdesk's agents inside your bot. Install it before your own handlers:
 *
 *   bot.use(topicdesk({ url, channelSecret }));
 *
 * It answers `/support` and the "Live support" button (`supportButton()`), and while a user
 * is in support it hands their texts to Topicdesk instead of your handlers; `/end` ends it.
 * Everything else — other users, other chats, your commands — goes on to your handlers.
 */
export function topicdesk<C extends Context>(
  options: TopicdeskOptions<C>,
): Composer<C & TopicdeskFlavor> {
  const client = new TopicdeskClient(options);
  const sessions = new SupportSessions(() => client.usersInSupport());
  const command = (options.command ?? DEFAULTS.command).toLowerCase();
  const onError =
    options.onError ?? ((error: unknown) => console.error('@topicdesk/grammy:', error));
  const resolve = async (value: PerUser<C> | undefined, ctx: C) =>
    typeof value === 'function' ? await value(ctx) : value;

  const composer = new Composer<C & TopicdeskFlavor>();
  composer.use(async (ctx, next) => {
    const from = ctx.from;
    if (!from || from.is_bot || ctx.chat?.type !== 'private') {
      ctx.topicdesk = { inSupport: false, start: () => Promise.resolve() };
      return next();
    }
    try {
      await sessions.ready();
    } catch (error) {
      // Who is in support is unknown until Topicdesk answers: the bot's handlers go on.
      onError(error, ctx);
    }
    const turn = async (): Promise<TurnInput> => ({
      updateId: ctx.update.update_id,
      userId: from.id,
      locale: languageTag((await resolve(options.locale, ctx)) ?? from.language_code),
      segment: await resolve(options.segment, ctx),
    });
    /** One call to Topicdesk: its answer recorded and shown; undefined when it is away. */
    const call = async (make: (input: TurnInput) => Promise<TurnAnswer>) => {
      try {
        const answer = await make(await turn());
        sessions.set(from.id, answer.inSupport);
        for (const reply of answer.answers)
          await ctx.reply(
            reply.text,
            reply.button
              ? {
                  reply_markup: {
                    inline_keyboard: [
                      [{ text: reply.button.text, callback_data: reply.button.callbackData }],
                    ],
                  },
                }
              : {},
          );
        return answer;
      } catch (error) {
        if (!(error instanceof TopicdeskUnavailableError)) throw error;
        onError(error, ctx);
        if (!ctx.callbackQuery)
          await ctx.reply(options.unavailableText ?? DEFAULTS.unavailableText);
        return undefined;
      }
    };
    const start = async () => {
      await call((input) => client.support(input));
    };
    ctx.topicdesk = {
      get inSupport() {
        return sessions.has(from.id);
      },
      start,
    };

    const button = parseCallbackData(ctx.callbackQuery?.data);
    if (button) return pressed(ctx, button, client, call);

    const message = ctx.message;
    if (!message) return next();
    const parsed = parseCommand(message.text);
    if (parsed?.name === command || (parsed?.name === 'start' && parsed.args === command))
      return start();
    if (!sessions.has(from.id)) return next();
    if (parsed?.name === 'end') {
      await call((input) => client.end(input));
      return;
    }
    // The bot's own commands keep working during support.
    if (parsed) return next();
    if (message.text === undefined) {
      await ctx.reply(options.textOnlyText ?? DEFAULTS.textOnlyText);
      return;
    }
    const text = message.text;
    const answer = await call((input) =>
      client.message({ ...input, messageId: message.message_id, text }),
    );
    // Closed by the agents meanwhile: the text is the bot's again.
    if (answer && !answer.inSupport && answer.outcome.startsWith('ignored')) return next();
  });
  return composer;
}

/** A Topicdesk button pressed in the bot: support, End, or a rating. */
async function pressed<C extends Context>(
  ctx: C,
  button: TopicdeskButton,
  client: TopicdeskClient,
  call: (make: (input: TurnInput) => Promise<TurnAnswer>) => Promise<TurnAnswer | undefined>,
): Promise<void> {
  let answer: TurnAnswer | undefined;
  switch (button.action) {
    case 'support':
      answer = await call((input) => client.support(input));
      break;
    case 'end':
      answer = await call((input) =>
        client.end({ ...input, conversationId: button.conversationId }),
      );
      break;
    case 'rate':
      answer = await call((input) =>
        client.rate({ ...input, conversationId: button.conversationId, rating: button.rating }),
      );
      if (answer?.outcome === 'command') await showRating(ctx, button.rating);
      break;
    default: {
      const never: never = button;
      throw new Error(`unknown button ${JSON.stringify(never)}`);
    }
  }
  // The user's client spins until the answer comes.
  await ctx.answerCallbackQuery(answer?.toast ? { text: answer.toast } : {});
}

/** The stars the user gave, under the prompt they pressed (its buttons go away). */
async function showRating(ctx: Context, rating: number): Promise<void> {
  const prompt = ctx.callbackQuery?.message;
  if (!prompt || !('text' in prompt) || prompt.text === undefined) return;
  await ctx.editMessageText(`${prompt.text}\n${'⭐'.repeat(rating)}`);
}
