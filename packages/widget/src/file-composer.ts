import type { Attachment, HistoryMessage } from '@topicdesk/protocol';
import { ApiError, type VisitorApi } from './api';
import { isFileCode, put, refusal, Tray } from './attachments';
import type { Credential } from './credential';
import type { Strings } from './strings';
import type { View } from './view';

export interface FileHooks {
  api: VisitorApi;
  credential: Credential;
  view: View;
  /** Creates the conversation if there is none yet (as a first message does). */
  ensure(): Promise<void>;
  /** The message with its uploaded files goes to the outbox. */
  compose(text: string, files: Attachment[]): void;
  /** Fresh links of files from a re-read history. */
  links(messages: readonly HistoryMessage[]): void;
}

/** How often an image failing to load may re-read the history for fresh links. */
const STALE_EVERY_MS = 10_000;

/**
 * The visitor's side of attachments (docs/contract.md, "Attachments"): each file picked is
 * uploaded at once (a link from the gateway, then a PUT with progress); the message goes once
 * every upload finished. Expired links of shown files are renewed from the history.
 */
export class FileComposer {
  readonly tray: Tray;
  #waiting = false;
  #staleAt = 0;

  constructor(
    strings: Strings,
    private readonly hooks: FileHooks,
  ) {
    this.tray = new Tray(
      strings,
      (file, progress, signal) => this.#upload(file, progress, signal),
      (text) => hooks.view.announce(text),
    );
    hooks.view.setTray(this.tray.el);
  }

  /** A message refused for one of its files: said aloud, its text back to send without it. */
  refused(text: string, code: string, strings: Strings): void {
    if (!isFileCode(code)) return;
    this.hooks.view.restoreComposer(text);
    this.hooks.view.announce(refusal(strings, code));
  }

  /** Sends `text` with the files once they are uploaded; false when no file waits. */
  send(text: string): boolean {
    if (this.tray.size === 0) return false;
    if (this.#waiting) return true;
    this.#waiting = true;
    // A refused upload keeps the text and the chips (which say why) to try again.
    void this.tray
      .ready()
      .then(
        (files) => {
          this.tray.clear();
          this.hooks.compose(text, files);
        },
        () => undefined,
      )
      .finally(() => {
        this.#waiting = false;
      });
    return true;
  }

  /** A shown link expired: fresh links, then open the file `open` (a click) if given. */
  async stale(open?: string): Promise<void> {
    if (!open && Date.now() - this.#staleAt < STALE_EVERY_MS) return;
    this.#staleAt = Date.now();
    const files = await this.links();
    const file = files.find((f) => f.id === open);
    if (file) window.open(file.url, '_blank', 'noopener');
  }

  /** Re-reads the history for the files' links (they expire); returns every file. */
  async links(): Promise<Attachment[]> {
    const { api, credential } = this.hooks;
    const page = await credential.authorized((s) => api.history(s)).catch(() => undefined);
    if (!page) return [];
    this.hooks.links(page.messages);
    return page.messages.flatMap((m) => m.attachments ?? []);
  }

  async #upload(
    file: File,
    progress: (loaded: number) => void,
    signal: AbortSignal,
  ): Promise<string> {
    const { api, credential } = this.hooks;
    await this.hooks.ensure();
    const ticket = await credential.authorized((s) => api.attachment(s, file));
    if (!ticket) throw new ApiError('UNAVAILABLE', 0, 'no conversation to attach the file to');
    if (signal.aborted) throw new ApiError('ABORTED', 0, 'upload cancelled');
    await put(ticket, file, progress, signal);
    return ticket.id;
  }
}
