import { topics } from '@topicdesk/bus';
import { SyncReason } from '@topicdesk/contracts';
import type { BridgeParts } from '../wiring';

const SWEEP_INTERVAL_MS = 15_000;
const SWEEP_AGE_MS = 10_000;
const SWEEP_BATCH = 50;

/**
 * Safety net: conversations whose Telegram side lags (a sync event that ran out of retries, a
 * restart mid-send) are synced again, every few seconds. Returns its stop.
 */
export function startSyncSweep(parts: BridgeParts): () => void {
  const { bus, delivery, bridges, logger } = parts;
  const sweep = async () => {
    // Any tenant's private chat reads every tenant's lagging ones (each is synced by its own).
    const privateChat = bridges.served().find((bridge) => bridge.privateChat)?.privateChat;
    const olderThan = new Date(Date.now() - SWEEP_AGE_MS);
    const lagging = await delivery.needingSync(olderThan, SWEEP_BATCH);
    // Private chats lag on their own cursor (agents' messages not sent to the user yet).
    if (privateChat) lagging.push(...(await privateChat.lagging(olderThan, SWEEP_BATCH)));
    const round = Math.floor(Date.now() / SWEEP_INTERVAL_MS);
    for (const c of lagging) {
      await bus.publish(
        topics.conversationSync,
        { tenantId: c.tenant_id, conversationId: c.id, reason: SyncReason.RETRY },
        { msgId: `sweep-${c.id}-${round}` },
      );
    }
  };
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: error }, 'sync sweep failed'));
  }, SWEEP_INTERVAL_MS);
  return () => clearInterval(timer);
}
