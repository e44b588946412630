// Telegram's flood limits (unpublished; the Bot FAQ's numbers): about 20 messages a
// minute to one group (all topics share it), about 1 a second to one chat with short bursts
// over it allowed, about 30 a second overall per bot. Off unless enabled, so tests that do not
// care never hit them.

export interface Limits {
  enabled: boolean;
  /** Messages one bot may send to one supergroup per group window. */
  perGroupPerMinute: number;
  /** Messages one bot may send to one chat (group or private) per chat window. */
  perChatPerSecond: number;
  /** Messages one bot may send in total per global window. */
  globalPerSecond: number;
  /** Length of the group window; Telegram's is a minute. Tests shorten it. */
  groupWindowMs: number;
  /** Length of the per-chat window; Telegram's is a second. */
  chatWindowMs: number;
  /**
   * Calls one chat takes back to back: Telegram lets a chat go over its rate in short bursts
   * (Bot FAQ), so a chat is held to `perChatPerSecond × chatBurst` calls per `chatBurst`
   * chat windows — the same average, bursts of `chatBurst`. 1 is a strict rate.
   */
  chatBurst: number;
  /** Length of the global window; Telegram's is a second. */
  globalWindowMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  enabled: false,
  perGroupPerMinute: 20,
  perChatPerSecond: 1,
  globalPerSecond: 30,
  groupWindowMs: 60_000,
  chatWindowMs: 1_000,
  chatBurst: 3,
  globalWindowMs: 1_000,
};

/**
 * The Bot API methods that show something in a chat and so count against the limits:
 * messages, edits, and the topic and pin calls that post service messages (a Telegram
 * maintainer: "creating a forum topic is sending a message about its creation"), and reactions
 * (they change what the chat shows, like an edit). Not
 * chat actions, getters or answerCallbackQuery.
 */
export const RATE_LIMITED_METHODS: ReadonlySet<string> = new Set([
  'sendMessage',
  'sendPhoto',
  'sendDocument',
  'createForumTopic',
  'editForumTopic',
  'editMessageText',
  'pinChatMessage',
  'closeForumTopic',
  'reopenForumTopic',
  'setMessageReaction',
]);

export interface RateTarget {
  botId: number;
  chatId: number;
  isGroup: boolean;
}

interface Window {
  key: string;
  max: number;
  lengthMs: number;
}

/** Sliding-window log per key: the receive times of the accepted calls. */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(private limits: Limits) {}

  configure(limits: Limits): void {
    this.limits = limits;
  }

  clear(): void {
    this.hits.clear();
  }

  /**
   * Seconds to wait before a call to this target would be accepted at `now`
   * (at least 1), or 0 when it is accepted now.
   */
  retryAfter(target: RateTarget, now: number): number {
    if (!this.limits.enabled) return 0;
    let waitMs = 0;
    for (const window of this.windows(target)) {
      const times = this.prune(window, now);
      if (times.length < window.max) continue;
      // The slot frees when the call that is `max` calls back leaves the window.
      const freeing = times[times.length - window.max] ?? now;
      waitMs = Math.max(waitMs, freeing + window.lengthMs - now);
    }
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
  }

  record(target: RateTarget, now: number): void {
    if (!this.limits.enabled) return;
    for (const window of this.windows(target)) {
      const times = this.hits.get(window.key) ?? [];
      times.push(now);
      this.hits.set(window.key, times);
    }
  }

  private windows(target: RateTarget): Window[] {
    const { botId, chatId } = target;
    const windows: Window[] = [
      {
        key: `bot:${botId}`,
        max: this.limits.globalPerSecond,
        lengthMs: this.limits.globalWindowMs,
      },
      {
        key: `chat:${botId}:${chatId}`,
        max: this.limits.perChatPerSecond * this.limits.chatBurst,
        lengthMs: this.limits.chatWindowMs * this.limits.chatBurst,
      },
    ];
    if (target.isGroup) {
      windows.push({
        key: `group:${botId}:${chatId}`,
        max: this.limits.perGroupPerMinute,
        lengthMs: this.limits.groupWindowMs,
      });
    }
    return windows;
  }

  private prune(window: Window, now: number): number[] {
    const times = this.hits.get(window.key) ?? [];
    const from = times.findIndex((at) => at > now - window.lengthMs);
    const kept = from === -1 ? [] : times.slice(from);
    this.hits.set(window.key, kept);
    return kept;
  }
}
