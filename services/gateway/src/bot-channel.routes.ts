import {
  BotChannelTokenError,
  botChannelView,
  isLanguageTag,
  Permission,
  privateCallbackData,
  type BotChannel,
  type BotChannels,
  type ChannelTurnResult,
  type PrivateChatRequest,
} from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { instant, shape } from './answer-components';
import { ErrorCode, GatewayError } from './errors';
import { bearerToken } from './tokens';
import { parse } from './validation';

export interface BotChannelRoutesOptions {
  /** Undefined without TELEGRAM_USER_KEY: every route answers BOT_CHANNELS_DISABLED. */
  channels: BotChannels | undefined;
  quotas: QuotaLimiter;
  /** BOT_CHANNEL_CALLS_PER_MINUTE. */
  callsPerMinute: number;
}

const BODY_LIMIT = 32 * 1024;
/** Telegram's longest text message (the plugin passes what the user wrote). */
const TEXT_LIMIT = 4096;

const registerBody = z.strictObject({
  /** The owner's bot token, from BotFather: Topicdesk sends agents' replies with it. */
  token: z.string().min(1).max(256),
  name: z.string().trim().min(1).max(64).optional(),
});
const channelParams = z.strictObject({ id: z.uuid() });

/** Who a plugin call is about: the Telegram update it comes from and its user. */
const turnFields = {
  /** The update's `update_id` in the owner's bot: the idempotency key of the call. */
  updateId: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The user's Telegram id (their chat with the owner's bot); stored only encrypted. */
  userId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The user's language for Topicdesk's texts (e.g. Telegram's language_code or the owner's). */
  locale: z
    .string()
    .max(35)
    .refine((v) => isLanguageTag(v), 'a language tag such as en or de-AT')
    .optional(),
  /** The owner's role or segment of the user (client, provider, vip…); never a name. */
  segment: z
    .string()
    .regex(/^[\p{L}\p{N} _.-]{1,32}$/u, 'at most 32 letters, digits, spaces, _ . -')
    .optional(),
};
const messageBody = z.strictObject({
  ...turnFields,
  /** The message's id in the user's chat: a retried call is not stored twice. */
  messageId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  text: z.string().min(1).max(TEXT_LIMIT),
});
const supportBody = z.strictObject(turnFields);
const endBody = z.strictObject({ ...turnFields, conversationId: z.uuid().optional() });
const ratingBody = z.strictObject({
  ...turnFields,
  conversationId: z.uuid(),
  rating: z.number().int().min(1).max(5),
});

const botChannelAnswer = shape(
  'BotChannel',
  z.strictObject({
    id: z.uuid(),
    name: z.string().nullable(),
    /** The owner's bot's Telegram id (never its token). */
    botId: z.string(),
    createdAt: instant,
  }),
);
const registeredAnswer = z.strictObject({
  channel: botChannelAnswer,
  /** The plugin's Bearer secret: shown this once, stored hashed. */
  secret: z.string(),
});
const channelListAnswer = z.strictObject({ channels: z.array(botChannelAnswer) });
const turnAnswer = shape(
  'ChannelTurn',
  z.strictObject({
    /** `stored`, `command`, `refused`, `duplicate` or `ignored:<why>`. */
    outcome: z.string(),
    inSupport: z.boolean(),
    /** What the owner's bot shows the user, in order. */
    answers: z.array(
      z.strictObject({
        text: z.string(),
        button: z.strictObject({ text: z.string(), callbackData: z.string() }).optional(),
      }),
    ),
    /** A pressed button's toast ('' for none). */
    toast: z.string(),
  }),
);
const usersAnswer = z.strictObject({ userIds: z.array(z.number().int()) });

/** What a plugin call answers: the outcome, whether the user is in support, what to show. */
function turnView(result: ChannelTurnResult) {
  return {
    outcome: result.outcome,
    inSupport: result.inSupport,
    answers: result.answers.map((answer) => ({
      text: answer.text,
      ...(answer.button
        ? {
            button: {
              text: answer.button.label,
              callbackData: privateCallbackData(answer.button.press),
            },
          }
        : {}),
    })),
    toast: result.toast,
  };
}

const TURN_RESPONSE = {
  200: 'outcome (stored, command, refused, duplicate, ignored:…), inSupport, answers [{ text, button? }], toast',
};

/**
 * Bot channels (issue 19). Admin: `POST`/`GET /v1/admin/bot-channels`,
 * `DELETE /v1/admin/bot-channels/:id`. The `@topicdesk/grammy` plugin, with the channel secret
 * as Bearer: `POST /v1/channels/bot/{support,messages,end,rating}` and
 * `GET /v1/channels/bot/users`. Contract: docs/bot-channels.md.
 */
export const botChannelRoutes: FastifyPluginAsync<BotChannelRoutesOptions> = async (
  app,
  options,
) => {
  const enabled = (): BotChannels => {
    if (!options.channels)
      throw new GatewayError(
        ErrorCode.BOT_CHANNELS_DISABLED,
        'bot channels need TELEGRAM_USER_KEY on the gateway (the same key as the bridge)',
      );
    return options.channels;
  };

  app.post(
    '/v1/admin/bot-channels',
    {
      bodyLimit: BODY_LIMIT,
      ...adminRoute(Permission.settingsWrite, 'Registers a bot channel; its secret, once', {
        body: registerBody,
        responses: { 201: 'the channel and its secret (shown once)' },
        answers: { 201: registeredAnswer },
      }),
    },
    async (request, reply) => {
      const channels = enabled();
      const body = parse(registerBody, request.body);
      let registered: Awaited<ReturnType<BotChannels['register']>>;
      try {
        registered = await channels.register(
          principalOf(request).tenantId,
          principalOf(request).actorId,
          {
            token: body.token,
            name: body.name ?? null,
          },
        );
      } catch (error) {
        if (error instanceof BotChannelTokenError)
          throw new GatewayError(ErrorCode.BOT_TOKEN_INVALID, error.message);
        throw error;
      }
      if (!registered)
        throw new GatewayError(
          ErrorCode.BOT_CHANNEL_EXISTS,
          'this bot has a channel already; delete it to register the bot again',
        );
      return reply
        .status(201)
        .send({ channel: botChannelView(registered.channel), secret: registered.secret });
    },
  );

  app.get(
    '/v1/admin/bot-channels',
    adminRoute(Permission.settingsRead, 'Bot channels (never their tokens or secrets)', {
      answers: { 200: channelListAnswer },
    }),
    async (request) => ({
      channels: (await enabled().list(principalOf(request).tenantId)).map(botChannelView),
    }),
  );

  app.delete(
    '/v1/admin/bot-channels/:id',
    adminRoute(Permission.settingsWrite, 'Deletes a bot channel: its secret stops working', {
      params: channelParams,
      responses: { 204: 'deleted' },
    }),
    async (request, reply) => {
      const { id } = parse(channelParams, request.params, 'id');
      const removed = await enabled().remove(
        principalOf(request).tenantId,
        principalOf(request).actorId,
        id,
      );
      if (!removed) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such bot channel');
      return reply.status(204).send();
    },
  );

  /** The channel of the Bearer secret, within the channel's calls per minute. */
  const channelOf = async (request: FastifyRequest, reply: FastifyReply): Promise<BotChannel> => {
    const channels = enabled();
    const secret = bearerToken(request.headers.authorization);
    if (secret === undefined)
      throw new GatewayError(ErrorCode.TOKEN_MISSING, 'the channel secret is required (Bearer)');
    const channel = await channels.authenticate(secret);
    if (!channel)
      throw new GatewayError(ErrorCode.CHANNEL_SECRET_INVALID, 'no bot channel has this secret');
    const quota = await options.quotas.hit(`botch:${channel.id}`, options.callsPerMinute, 60_000);
    if (!quota.allowed) {
      void reply.header('retry-after', Math.ceil(quota.retryAfterMs / 1000));
      throw new GatewayError(ErrorCode.RATE_LIMITED, 'too many calls from this bot channel', {
        retryAfterMs: quota.retryAfterMs,
      });
    }
    return channel;
  };

  const turnRoute = <T extends z.ZodObject>(
    path: string,
    summary: string,
    schema: T,
    request: (body: z.output<T>) => PrivateChatRequest,
  ) =>
    app.post(
      path,
      {
        bodyLimit: BODY_LIMIT,
        config: {
          doc: {
            summary,
            tag: 'channel',
            auth: 'channel',
            body: schema,
            responses: TURN_RESPONSE,
            answers: { 200: turnAnswer },
          },
        },
      },
      async (req, reply) => {
        const channel = await channelOf(req, reply);
        const body = parse(schema, req.body) as z.output<T> & z.output<typeof supportBody>;
        const result = await enabled().apply({
          channel,
          updateId: body.updateId,
          telegramUserId: body.userId,
          language: body.locale?.toLowerCase() ?? null,
          segment: body.segment,
          request: request(body),
        });
        return turnView(result);
      },
    );

  turnRoute(
    '/v1/channels/bot/support',
    'A bot channel user asks for support (/support, the Live support button)',
    supportBody,
    () => ({ kind: 'support' }),
  );
  turnRoute(
    '/v1/channels/bot/messages',
    "A bot channel user's message while in support",
    messageBody,
    (body) => ({ kind: 'text', messageId: body.messageId, text: body.text }),
  );
  turnRoute(
    '/v1/channels/bot/end',
    'A bot channel user ends their conversation (/end, the End button)',
    endBody,
    (body) => ({ kind: 'end', conversationId: body.conversationId }),
  );
  turnRoute(
    '/v1/channels/bot/rating',
    'A bot channel user rates their closed conversation (1–5)',
    ratingBody,
    (body) => ({ kind: 'rate', conversationId: body.conversationId, rating: body.rating }),
  );

  app.get(
    '/v1/channels/bot/users',
    {
      config: {
        doc: {
          summary: "The channel's users in support (the plugin's state after a restart)",
          tag: 'channel',
          auth: 'channel',
          responses: { 200: 'userIds: Telegram ids of the users with an open conversation' },
          answers: { 200: usersAnswer },
        },
      },
    },
    async (request, reply) => {
      const channel = await channelOf(request, reply);
      return { userIds: await enabled().usersInSupport(channel) };
    },
  );
};
