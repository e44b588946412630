import { topicdesk, supportButton, type TopicdeskFlavor } from '@topicdesk/grammy';
import { Bot, type Context } from 'grammy';

/** The owner's bot of the suite: an appointment scheduler with its own commands and roles. */
export const OWNER_TOKEN = '300000001:e2e-owner-bot-token';
export const OWNER_BOT_ID = 300000001;

export interface OwnerBotOptions {
  apiRoot: string;
  gatewayUrl: string;
  channelSecret: string;
  /** The scheduler's own users who are providers; everyone else is a client. */
  providers: ReadonlySet<number>;
  /** Its VIP clients (segment `vip`). */
  vips: ReadonlySet<number>;
}

type OwnerContext = Context & TopicdeskFlavor;

/**
 * A bot as an owner writes it: `/start` with a menu (the plugin's button placed by the owner),
 * `/book`, and an echo of texts. The plugin goes first; the bot's handlers see what it passes.
 */
export function ownerBot(options: OwnerBotOptions): {
  bot: Bot<OwnerContext>;
  stop: () => Promise<void>;
} {
  const bot = new Bot<OwnerContext>(OWNER_TOKEN, {
    client: { apiRoot: options.apiRoot },
  });
  bot.use(
    topicdesk<OwnerContext>({
      url: options.gatewayUrl,
      channelSecret: options.channelSecret,
      segment: (ctx) => {
        const id = ctx.from?.id;
        if (id !== undefined && options.providers.has(id)) return 'provider';
        return id !== undefined && options.vips.has(id) ? 'vip' : 'client';
      },
      // Long enough to outlast a gateway's restart; each wait stays short.
      retry: { attempts: 40, baseDelayMs: 200, maxDelayMs: 2_000 },
      onError: () => undefined,
    }),
  );
  bot.command('start', (ctx) =>
    ctx.reply('Welcome to the scheduler. /book to book an appointment.', {
      reply_markup: {
        inline_keyboard: [[{ text: '📅 Book', callback_data: 'book' }], [supportButton()]],
      },
    }),
  );
  bot.command('book', (ctx) => ctx.reply('📅 Booked: Tuesday 10:00'));
  bot.on('message:text', (ctx) => ctx.reply(`Scheduler heard: ${ctx.message.text}`));
  bot.catch((error) => console.error('owner bot error', error.error));
  const running = bot.start({ timeout: 1 });
  return {
    bot,
    stop: async () => {
      await bot.stop();
      await running;
    },
  };
}
