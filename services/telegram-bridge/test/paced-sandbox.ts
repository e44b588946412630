import { startSandbox, type RunningSandbox } from '@topicdesk/telegram-sandbox';

/**
 * A sandbox whose support group takes `perWindow` calls per `windowMs`: Telegram's group limit
 * over a window of seconds, so pacing tests take seconds. Other limits stay out of the way.
 */
export function startPacedSandbox(
  supergroupId: number,
  perWindow: number,
  windowMs: number,
): Promise<RunningSandbox> {
  return startSandbox({
    supergroupId,
    limits: {
      enabled: true,
      perGroupPerMinute: perWindow,
      groupWindowMs: windowMs,
      perChatPerSecond: 30,
      globalPerSecond: 30,
    },
  });
}
