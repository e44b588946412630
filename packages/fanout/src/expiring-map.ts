/**
 * A Map whose entries expire, for the in-process twins of keys with a TTL. Expired entries vanish
 * on access, and a sweep runs whenever the map has doubled since the last one, so keys that are
 * never read again (one per visitor IP, say) do not pile up.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private sweepAt: number;

  constructor(private readonly minSweepSize = 1024) {
    this.sweepAt = minSweepSize;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Milliseconds the key has left, or 0 if it is absent or expired. */
  ttl(key: string, now: number): number {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= now) return 0;
    return entry.expiresAt - now;
  }

  set(key: string, value: V, expiresAt: number, now: number): void {
    this.entries.set(key, { value, expiresAt });
    if (this.entries.size >= this.sweepAt) this.sweep(now);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(key);
    }
    this.sweepAt = Math.max(this.minSweepSize, this.entries.size * 2);
  }
}
