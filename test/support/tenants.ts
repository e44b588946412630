// Tenants (issue 16) for the e2e suites and the benchmark: the platform API's client, a tenant's
// sandbox bot and group, and a watch over the bot tokens the services call the sandbox with.
import { randomBytes } from 'node:crypto';
import { MemberStatus, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import { GROUP_ID } from './cluster';

/** A key-encryption key in TENANT_KEK's form: `<id>:<base64 of 32 bytes>`. */
export function newKek(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** A platform token (PLATFORM_TOKEN: at least 24 characters). */
export function newPlatformToken(): string {
  return `platform-${randomBytes(16).toString('hex')}`;
}

/** The default tenant's bot id (cluster.ts's BOT_TOKEN `200000001:…`). */
export const DEFAULT_BOT_ID = 200000001;

/** Tenant bot `n` (1-based): id 3000000NN, never one of cluster.ts's bots. */
export function tenantBotId(n: number): number {
  return 300_000_000 + n;
}

/**
 * A token of tenant bot `n` as BotFather gives it (the platform API wants 30+ characters after
 * the id). `generation` > 0 is the same bot's token after a revoke: same id, another secret.
 */
export function tenantBotToken(n: number, generation = 0): string {
  return `${tenantBotId(n)}:tenant${String(n).padStart(4, '0')}-g${generation}-${'x'.repeat(24)}`;
}

/** Tenant `n`'s forum supergroup: -1002000000NNN, never the default tenant's group. */
export function tenantGroupId(n: number): number {
  return -1002000000000 - n;
}

export interface TenantSecretsInput {
  botToken?: string;
  senderBotTokens?: string[];
  supportGroups?: string[];
  jwtSecret?: string;
  serviceToken?: string;
  telegramUserKey?: string;
}

/** Every secret a tenant needs, fresh: bot `n`, group `n`, its own JWT secret and tokens. */
export function tenantSecrets(n: number): Required<Omit<TenantSecretsInput, 'senderBotTokens'>> {
  return {
    botToken: tenantBotToken(n),
    supportGroups: [String(tenantGroupId(n))],
    jwtSecret: randomBytes(32).toString('hex'),
    serviceToken: `svc-${randomBytes(16).toString('hex')}`,
    telegramUserKey: randomBytes(32).toString('base64'),
  };
}

/** A tenant as the platform API answers it (the fields the suites read). */
export interface TenantView {
  id: string;
  name: string;
  status: 'active' | 'suspended' | 'deleted';
  siteKey: string;
  kekId: string | null;
  limits: Record<string, number>;
  secrets: Record<string, { set: boolean; fingerprint?: string; count?: number }>;
}

export interface PlatformAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
}

/** The platform API (`/v1/platform/…`, PLATFORM_TOKEN) of one gateway. */
export class PlatformClient {
  constructor(
    readonly gatewayUrl: string,
    private readonly token: string,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<PlatformAnswer<T>> {
    const response = await fetch(`${this.gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, body: parsed as T, text };
  }

  /** Creates a tenant; throws unless 201. */
  async create(body: Record<string, unknown>): Promise<TenantView> {
    const answer = await this.call<TenantView>('POST', '/v1/platform/tenants', body);
    if (answer.status !== 201) throw new Error(`create tenant: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  /** Changes a tenant; throws unless 200. */
  async patch(tenantId: string, body: Record<string, unknown>): Promise<TenantView> {
    const answer = await this.call<TenantView>('PATCH', `/v1/platform/tenants/${tenantId}`, body);
    if (answer.status !== 200) throw new Error(`patch tenant: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  async get(tenantId: string): Promise<TenantView> {
    const answer = await this.call<TenantView>('GET', `/v1/platform/tenants/${tenantId}`);
    if (answer.status !== 200) throw new Error(`get tenant: ${answer.status} ${answer.text}`);
    return answer.body;
  }
}

/**
 * Tenant `n`'s own forum supergroup in the sandbox, its bot an administrator there and not a
 * member of the default tenant's group (nor the default bot of its group): as separate
 * Telegram accounts would have it. A call across anyway is refused (403) and in the call log.
 */
export function addTenantGroup(sandbox: RunningSandbox, n: number): number {
  const chatId = tenantGroupId(n);
  sandbox.state.world.addForum(chatId, `Tenant ${n} desk`);
  sandbox.state.setMember(chatId, tenantBotId(n), MemberStatus.administrator);
  sandbox.state.setMember(chatId, DEFAULT_BOT_ID, MemberStatus.left);
  sandbox.state.setMember(GROUP_ID, tenantBotId(n), MemberStatus.left);
  return chatId;
}

/** One Bot API call as the sandbox received it, with the token it came with. */
export interface TokenUse {
  token: string;
  method: string;
  at: number;
}

/**
 * Records the token of every Bot API call the sandbox serves, and answers a revoked token
 * 401 Unauthorized as Telegram does once BotFather revoked it.
 */
export class TokenWatch {
  readonly uses: TokenUse[] = [];
  readonly #revoked = new Set<string>();

  constructor(sandbox: RunningSandbox) {
    const state = sandbox.state;
    const serve = state.callBotApi.bind(state);
    state.callBotApi = async (token, method, params, signal) => {
      this.uses.push({ token, method, at: Date.now() });
      if (this.#revoked.has(token)) {
        return {
          status: 401,
          body: { ok: false, error_code: 401, description: 'Unauthorized' },
        };
      }
      return serve(token, method, params, signal);
    };
  }

  revoke(token: string): void {
    this.#revoked.add(token);
  }

  /** Calls made with `token` (since `since`, ms since the epoch). */
  usesOf(token: string, since = 0): TokenUse[] {
    return this.uses.filter((use) => use.token === token && use.at >= since);
  }
}

/** The thread id of the topic in `chatId` whose name carries `ticket`, once it exists. */
export async function topicIn(
  sandbox: RunningSandbox,
  chatId: number,
  ticket: string,
  timeoutMs = 20_000,
): Promise<number> {
  const topic = await sandbox.state.waitFor(
    () => sandbox.state.topics(chatId).find((t) => t.name.includes(ticket)),
    timeoutMs,
  );
  return topic.threadId;
}

/** Where a topic header's carried visitor texts start (as cluster.ts's botTexts). */
const HEADER_TEXTS = '\n\n💬 ';

/**
 * Each visitor text a bot relayed into a group (merged sends split again, the header's carried
 * texts included), with the bot that sent it.
 */
export function relayedLines(
  sandbox: RunningSandbox,
  chatId: number,
  threadId?: number,
): Array<{ text: string; botId: number | undefined }> {
  return sandbox.state
    .messages({ chatId, fromBot: true, ...(threadId === undefined ? {} : { threadId }) })
    .flatMap((m) => {
      if (typeof m.text !== 'string' || m.service !== null) return [];
      const carried = m.text.indexOf(HEADER_TEXTS);
      const body =
        m.replyMarkup === null
          ? m.text
          : carried === -1
            ? ''
            : m.text.slice(carried + HEADER_TEXTS.length);
      return body
        .split('\n\n')
        .filter((line) => line.length > 0)
        .map((text) => ({ text, botId: m.from?.id }));
    });
}
