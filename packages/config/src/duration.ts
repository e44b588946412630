const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses "1500ms", "30s", "5m", "24h", "90d" or a plain number of milliseconds.
 * Returns undefined for anything else.
 */
export function parseDuration(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = (match[2] ?? 'ms') as keyof typeof UNITS;
  return Math.round(amount * UNITS[unit]);
}
