import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

// A JSON file that follows the sandbox's state: read once at start, written at most
// every `debounceMs` after a change, atomically (temp file + rename) so that a crash
// mid-write leaves the previous version, never half a file.

export const SAVE_DEBOUNCE_MS = 200;

export class JsonFileStore<T> {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly snapshot: () => T,
    private readonly onError: (error: unknown) => void,
    private readonly debounceMs = SAVE_DEBOUNCE_MS,
  ) {}

  /** The file's content, or undefined when there is none yet. Throws on a corrupt file. */
  load(): unknown {
    if (!existsSync(this.path)) return undefined;
    return JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
  }

  /** Notes a change; the file is written once the changes pause for `debounceMs`. */
  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onError);
    }, this.debounceMs);
  }

  /** Writes pending changes now; resolves when they are on disk. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // Writes are chained so that an older snapshot never renames over a newer one.
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write(JSON.stringify(this.snapshot()));
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    });
    await this.writing.catch((error: unknown) => {
      this.writing = Promise.resolve();
      throw error;
    });
  }

  private async write(content: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, content, 'utf8');
    await rename(temp, this.path);
  }
}
