import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import multipart from '@fastify/multipart';
import { agentPageHtml } from './agent-page';
import { MAX_DOCUMENT_BYTES, type UploadedPart } from './media-api';
import { SandboxError, sandboxError } from './errors';
import { isRecord, type Params } from './params';
import {
  allowedHostSet,
  browserRefusal,
  hostRefusal,
  mediaTypeRefusal,
  refuseWith,
} from './request-guard';
import { BOT_TOKEN, type SandboxState } from './state';
import { MAX_DOWNLOAD_BYTES } from './world/files';
import { MemberStatus } from './world/records';

// Serves the sandbox over HTTP under whatever prefix it is registered with:
//   <prefix>/bot<token>/<method>   the Bot API, as Telegram answers it
//   <prefix>/file/bot<token>/<path> a file's bytes, after getFile
//   <prefix>/sandbox/...           the control API (JSON) for tests and the agent page
//   <prefix>/                      the agent page
// Not wrapped in fastify-plugin on purpose: its body parsers, hooks and error handlers
// stay inside its own context and do not change the host app.
// Every route refuses what a browser page may have forged (src/request-guard.ts).

export interface SandboxPluginOptions {
  state: SandboxState;
  /**
   * Host names the sandbox answers to besides loopback names and addresses, e.g. the
   * non-loopback interface it listens on. Requests naming any other Host get 403.
   */
  allowedHosts?: readonly string[];
}

export const sandboxPlugin: FastifyPluginAsync<SandboxPluginOptions> = async (
  app,
  { state, allowedHosts },
) => {
  const hosts = allowedHostSet(allowedHosts);
  const fromBrowser = (request: FastifyRequest) => browserRefusal(request, hosts);
  registerBodyParsers(app);
  await app.register((bot, _options, done) => {
    bot.addHook(
      'onRequest',
      refuseWith(fromBrowser, (error) => error.toBotApiBody()),
    );
    // Files come as multipart/form-data, as Telegram takes them (src/media-api.ts).
    void bot.register(multipart, {
      attachFieldsToBody: true,
      // One byte over the largest file Telegram takes: enough to tell it was too big.
      limits: { fileSize: MAX_DOCUMENT_BYTES + 1, files: 10, fields: 100 },
      throwFileSizeLimit: false,
      onFile: async (part) => {
        const uploaded: UploadedPart = {
          upload: true,
          bytes: await part.toBuffer(),
          fileName: part.filename,
          mimeType: part.mimetype,
        };
        (part as unknown as { value: UploadedPart }).value = uploaded;
      },
    });
    botApiRoutes(bot, state);
    done();
  });
  await app.register(
    (control, _options, done) => {
      control.addHook(
        'onRequest',
        refuseWith(
          (request) => fromBrowser(request) ?? mediaTypeRefusal(request),
          (error) => error.toControlBody(),
        ),
      );
      controlRoutes(control, state);
      done();
    },
    { prefix: '/sandbox' },
  );
  // The page itself may be opened from a link on any site (a navigation); only its Host is checked.
  app.get(
    '/',
    {
      onRequest: refuseWith(
        (request) => hostRefusal(request, hosts),
        (error) => error.toBotApiBody(),
      ),
    },
    (request, reply) => agentPage(request, reply),
  );
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(sandboxError('METHOD_NOT_FOUND').toBotApiBody()),
  );
};

function registerBodyParsers(app: FastifyInstance): void {
  // Telegram takes an empty body as no parameters; fastify's own JSON parser refuses it.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, {});
      return;
    }
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(
        sandboxError('BAD_REQUEST', {
          description: "Bad Request: can't parse JSON object",
          cause: error,
        }),
        undefined,
      );
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      done(null, Object.fromEntries(new URLSearchParams(text)));
    },
  );
}

// ---- Bot API -----------------------------------------------------------------------------

function botApiRoutes(app: FastifyInstance, state: SandboxState): void {
  app.setErrorHandler((error, _request, reply) => {
    const sandbox = toSandboxError(error);
    return reply.code(sandbox.status).send(sandbox.toBotApiBody());
  });

  const handler = async (
    request: FastifyRequest<{ Params: { token: string; method: string } }>,
    reply: FastifyReply,
  ) => {
    const { token, method } = request.params;
    const body = isRecord(request.body) ? request.body : {};
    const params: Params = {
      ...(isRecord(request.query) ? request.query : {}),
      ...(request.isMultipart() ? formValues(body) : body),
    };
    // A long poll ends early when its client goes away.
    const left = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) left.abort();
    });
    const response = await state.callBotApi(token, method, params, left.signal);
    return reply.code(response.status).send(response.body);
  };
  // A file's download, as Telegram serves it after getFile: https://api.telegram.org/file/bot<token>/<file_path>.
  app.get(
    '/file/bot:token/*',
    (request: FastifyRequest<{ Params: { token: string; '*': string } }>, reply) => {
      if (!BOT_TOKEN.test(request.params.token))
        return reply.code(401).send(sandboxError('UNAUTHORIZED').toBotApiBody());
      const file = state.world.files.byPath(request.params['*']);
      if (!file || file.bytes.length > MAX_DOWNLOAD_BYTES)
        return reply.code(404).send(sandboxError('METHOD_NOT_FOUND').toBotApiBody());
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', file.bytes.length)
        .send(file.bytes);
    },
  );
  app.get('/bot:token/:method', handler);
  app.post('/bot:token/:method', handler);
}

/** A multipart body's parts (`{ fieldname, value, … }`) as plain parameters. */
function formValues(body: Record<string, unknown>): Params {
  return Object.fromEntries(
    Object.entries(body).map(([name, part]) => [
      name,
      isRecord(part) && 'fieldname' in part ? part['value'] : part,
    ]),
  );
}

function toSandboxError(error: unknown): SandboxError {
  if (error instanceof SandboxError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return sandboxError('BAD_REQUEST', { description: `Bad Request: ${message}`, cause: error });
  }
  throw error;
}

// ---- control API -------------------------------------------------------------------------

const user = z.object({
  id: z.number().int().positive(),
  first_name: z.string().min(1),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
  is_bot: z.boolean().optional(),
  isAdmin: z.boolean().optional(),
});

const bytes = z.base64().transform((v) => Buffer.from(v, 'base64'));
const injectedMedia = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('photo'), sizes: z.array(bytes).min(1).max(4) }),
  z.object({
    kind: z.literal('document'),
    bytes,
    fileName: z.string().optional(),
    mimeType: z.string().optional(),
  }),
  z.object({
    kind: z.literal('voice'),
    bytes,
    duration: z.number().int().optional(),
    mimeType: z.string().optional(),
  }),
  z.object({
    kind: z.literal('video'),
    bytes,
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    duration: z.number().int().optional(),
    fileName: z.string().optional(),
    mimeType: z.string().optional(),
  }),
]);

const injectBody = z.object({
  chatId: z.number().int(),
  /** The text, or with `media` its caption. */
  text: z.string().default(''),
  /** A file the person sends (bytes in base64), as in Telegram's update shapes. */
  media: injectedMedia.optional(),
  from: user,
  messageThreadId: z.number().int().optional(),
  replyToMessageId: z.number().int().optional(),
});

const editBody = z.object({
  chatId: z.number().int(),
  messageId: z.number().int(),
  text: z.string(),
});

const callbackBody = z.object({
  chatId: z.number().int(),
  messageId: z.number().int(),
  data: z.string(),
  from: user,
});

const miniAppBody = z.object({
  chatId: z.number().int(),
  messageId: z.number().int(),
  text: z.string().optional(),
  from: user,
});

const limitsBody = z
  .object({
    enabled: z.boolean(),
    perGroupPerMinute: z.number().int().positive(),
    perChatPerSecond: z.number().int().positive(),
    globalPerSecond: z.number().int().positive(),
    groupWindowMs: z.number().int().positive(),
    chatWindowMs: z.number().int().positive(),
    chatBurst: z.number().int().positive(),
    globalWindowMs: z.number().int().positive(),
  })
  .partial();

const optionalInteger = z.coerce.number().int().optional();
const messagesQuery = z.object({
  chatId: optionalInteger,
  threadId: optionalInteger,
  fromBot: z.enum(['true', 'false']).optional(),
});

const callsQuery = z.object({ method: z.string().optional() });

const memberBody = z.object({
  chatId: z.number().int(),
  userId: z.number().int().positive(),
  status: z.enum(Object.values(MemberStatus)),
  rights: z
    .object({
      can_manage_topics: z.boolean(),
      can_pin_messages: z.boolean(),
      can_delete_messages: z.boolean(),
    })
    .partial()
    .optional(),
});

const membersQuery = z.object({ chatId: optionalInteger });

function controlRoutes(app: FastifyInstance, state: SandboxState): void {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof z.ZodError) {
      const description = `Bad Request: ${error.issues
        .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
        .join('; ')}`;
      return reply.code(400).send(sandboxError('BAD_REQUEST', { description }).toControlBody());
    }
    return reply.code(toSandboxError(error).status).send(toSandboxError(error).toControlBody());
  });

  app.get('/state', () => state.summary());

  // A file a bot sent (the agent page shows photos and links documents), never run as a page.
  app.get('/files/:id', (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const file = state.world.files.get(request.params.id);
    if (!file) return reply.code(404).send(sandboxError('FILE_ID_INVALID').toControlBody());
    return reply
      .header('content-type', file.mimeType)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(file.bytes);
  });

  app.get('/messages', (request) => {
    const query = messagesQuery.parse(request.query);
    return state.messages({
      ...(query.chatId === undefined ? {} : { chatId: query.chatId }),
      ...(query.threadId === undefined ? {} : { threadId: query.threadId }),
      ...(query.fromBot === undefined ? {} : { fromBot: query.fromBot === 'true' }),
    });
  });

  app.post('/messages', (request) => {
    const body = injectBody.parse(request.body);
    return state.injectMessage({
      chatId: body.chatId,
      text: body.text,
      from: withoutUndefined(body.from),
      ...(body.media === undefined ? {} : { media: withoutUndefined(body.media) }),
      ...(body.messageThreadId === undefined ? {} : { messageThreadId: body.messageThreadId }),
      ...(body.replyToMessageId === undefined ? {} : { replyToMessageId: body.replyToMessageId }),
    });
  });

  app.post('/messages/edit', (request) => state.editUserMessage(editBody.parse(request.body)));

  app.post('/callback', (request) => {
    const body = callbackBody.parse(request.body);
    const { isAdmin: _isAdmin, ...from } = withoutUndefined(body.from);
    const id = state.pressButton({ ...body, from: { ...from, is_bot: from.is_bot ?? false } });
    return { id };
  });

  // A person taps a Mini App button: the page's URL and the initData Telegram would sign.
  app.post('/mini-app', (request) => {
    const body = miniAppBody.parse(request.body);
    const { isAdmin: _isAdmin, ...from } = withoutUndefined(body.from);
    return state.openMiniApp({
      chatId: body.chatId,
      messageId: body.messageId,
      from: { ...from, is_bot: from.is_bot ?? false },
      ...(body.text === undefined ? {} : { text: body.text }),
    });
  });

  app.get('/callback/:id', (request: FastifyRequest<{ Params: { id: string } }>) => ({
    id: request.params.id,
    answer: state.callbackAnswer(request.params.id) ?? null,
  }));

  app.get('/calls', (request) => {
    const query = callsQuery.parse(request.query);
    return {
      calls: state.calls(query.method === undefined ? {} : { method: query.method }),
      rateLimited: state.rateLimited(),
    };
  });

  app.get('/updates', () => state.pendingUpdates());

  app.get('/members', (request) => {
    const { chatId } = membersQuery.parse(request.query);
    return state.members(chatId);
  });

  app.post('/members', (request) => {
    const body = memberBody.parse(request.body);
    return state.setMember(
      body.chatId,
      body.userId,
      body.status,
      body.rights ? withoutUndefined(body.rights) : undefined,
    );
  });

  app.get('/limits', () => state.limits);

  app.post('/limits', (request) =>
    state.setLimits(withoutUndefined(limitsBody.parse(request.body ?? {}))),
  );

  app.post('/reset', () => {
    state.reset();
    return { ok: true };
  });
}

/** zod's optional fields come back as `key: undefined`; exactOptionalPropertyTypes-safe copies drop them. */
function withoutUndefined<T extends object>(
  value: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

// ---- agent page ------------------------------------------------------------------------

function agentPage(request: FastifyRequest, reply: FastifyReply) {
  // The page uses relative URLs, so it must be served from "<prefix>/", not "<prefix>".
  const [path = '/', query] = request.url.split('?');
  if (!path.endsWith('/')) return reply.redirect(`${path}/${query ? `?${query}` : ''}`);
  const nonce = randomBytes(16).toString('base64');
  return reply
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(agentPageHtml(nonce));
}
