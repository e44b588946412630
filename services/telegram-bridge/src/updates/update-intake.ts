import { topics, type Bus } from '@topicdesk/bus';
import { timestampNow } from '@topicdesk/contracts';
import type { Update } from 'grammy/types';
import type { BridgeMetrics } from '../metrics';
import type { BotPool } from '../sender/bot-pool';
import { isSealedUpdate, updateAad, type UserKeyring } from '../user-crypto';
import { isPrivateChatUpdate } from './private-chat';

/**
 * Updates from Telegram onto the bus (by webhook or polling) and back off it: they carry
 * people's Telegram ids and names, so with the key they cross the bus sealed (AES-256-GCM,
 * bound to the receiving bot and update id); without it private chats are off and their
 * updates are not published at all.
 */
export class UpdateIntake {
  constructor(
    private readonly options: {
      bus: Bus;
      pool: BotPool;
      metrics: BridgeMetrics;
      keyring: UserKeyring | undefined;
      /** The tenant whose bots these are; its id travels with every update. */
      tenantId: string;
    },
  ) {}

  /** Publishes one update as received by `receiver` (by default: the bot it names). */
  ingest = async (
    update: { update_id: number },
    receiver: string = this.receiverOf(update),
  ): Promise<void> => {
    const { bus, keyring, metrics } = this.options;
    const json = new TextEncoder().encode(JSON.stringify(update));
    let payload: Uint8Array = json;
    if (keyring) payload = keyring.sealUpdate(json, updateAad(receiver, update.update_id));
    else if (isPrivateChatUpdate(update)) {
      metrics.updatesIgnored.add(1, { reason: 'private_chat_without_key' });
      return;
    }
    await bus.publish(
      topics.telegramUpdate,
      {
        updateId: BigInt(update.update_id),
        botId: receiver,
        payload,
        receivedAt: timestampNow(),
        tenantId: this.options.tenantId,
      },
      { msgId: `tg-${receiver}-${update.update_id}` },
    );
  };

  /** The Update of a bus payload: sealed by a bridge with the key, or plain from one without. */
  open(data: { payload: Uint8Array; botId: string; updateId: bigint }): Update {
    const { keyring } = this.options;
    let json = data.payload;
    if (isSealedUpdate(data.payload)) {
      // Thrown errors make the bus redeliver: another replica (with the key) may open it.
      if (!keyring) throw new Error('a sealed update arrived but TELEGRAM_USER_KEY is not set');
      json = keyring.openUpdate(data.payload, updateAad(data.botId, data.updateId));
    }
    return JSON.parse(new TextDecoder().decode(json)) as Update;
  }

  /**
   * Which of our bots received an update that came by webhook (all bots share the URL): a
   * sender bot receives only the callback queries of the buttons it sent, so the message under
   * the button names it; anything else is the main bot's.
   */
  receiverOf(update: Update): string {
    const { pool } = this.options;
    const author = update.callback_query?.message?.from?.id;
    return author !== undefined && pool.bot(String(author)) ? String(author) : pool.main.id;
  }
}
