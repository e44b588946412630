/** What one-process mode tells a person once it is up: where to go, nothing else. */
export interface StartupInfo {
  /** `http://host:port` the server answers on. */
  base: string;
  dataDir: string;
  /** Path of the sandbox's agent page under `base`; undefined with real Telegram. */
  sandboxPath?: string;
  /** The group agents answer in, with real Telegram. */
  supportGroupId?: string;
}

/** The start-up block, one line per entry (no colours: it is read in logs and terminals alike). */
export function startupLines(info: StartupInfo): string[] {
  return [
    '',
    `Topicdesk is running (one process, data in ${info.dataDir})`,
    `  Visitor demo page:  ${info.base}/demo`,
    info.sandboxPath !== undefined
      ? `  Agent page (Telegram sandbox):  ${info.base}${info.sandboxPath}/`
      : `  Agents answer in Telegram group ${info.supportGroupId ?? '(unset)'}`,
    `  Health: ${info.base}/readyz   Metrics: ${info.base}/metrics`,
    '',
  ];
}

/** How long start-up log lines get to reach a terminal before the block is printed below them. */
export const STARTUP_SETTLE_MS = 300;

/**
 * Prints the block. On a terminal it goes last: pretty logs are written by a worker thread and
 * would otherwise land after it and push the URLs out of sight. Anywhere else (files, tests
 * reading the output) it is written at once, as before.
 */
export function printStartup(
  lines: string[],
  out: { isTTY?: boolean; write(text: string): unknown },
  flushLogs: (done: () => void) => void,
): void {
  const text = `${lines.join('\n')}\n`;
  if (out.isTTY !== true) {
    out.write(text);
    return;
  }
  flushLogs(() => setTimeout(() => out.write(text), STARTUP_SETTLE_MS));
}
