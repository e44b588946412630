import type { Attachment, UploadTicket } from '@topicdesk/protocol';
import { ApiError } from './api';
import { h, icon } from './dom';
import { format, type Strings } from './strings';

// Visitors' files (issue 17): the chips of files waiting to go with the next message, their
// uploads, and the files of sent and received messages.

/** The words for a refused file by its code's tail (`ATTACHMENT_…`, docs/errors.md). */
const REFUSALS: Record<string, keyof Strings> = {
  TOO_LARGE: 'fileTooLarge',
  TOTAL_EXCEEDED: 'fileTotal',
  TYPE_NOT_ALLOWED: 'fileType',
  INVALID: 'fileInvalid',
  INFECTED: 'fileInfected',
};

export const isFileCode = (code: string | undefined): boolean => /^ATTACHMENT_/.test(code ?? '');

/** The words for a refused file, with its stable code. */
export function refusal(s: Strings, code: string): string {
  return `${s[REFUSALS[code.slice(11)] ?? 'fileFailed']} (${code})`;
}

/** 980 B, 12 KB, 1.2 MB. */
export function fileSize(bytes: number): string {
  let n = bytes;
  let unit = 0;
  for (; n >= 1024 && unit < 3; unit++) n /= 1024;
  return `${+n.toFixed(unit > 0 && n < 10 ? 1 : 0)} ${['B', 'KB', 'MB', 'GB'][unit]}`;
}

/**
 * PUTs `file` to an upload link with exactly its headers. XMLHttpRequest, not fetch: only it
 * reports upload progress. Rejects with an ApiError (`ABORTED` when `signal` aborts).
 */
export function put(
  ticket: UploadTicket,
  file: Blob,
  progress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.method, ticket.uploadUrl);
    // Only the Content-Type (S3 and the gateway's links): the browser sets the length.
    for (const [name, value] of Object.entries(ticket.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => progress(event.loaded);
    xhr.onload = () => {
      if (xhr.status < 300) return resolve();
      // The gateway's links answer JSON; S3 answers XML, its 403 an expired or refused link.
      const code =
        /"code":"(\w+)"/.exec(xhr.responseText)?.[1] ??
        (xhr.status === 403 ? 'ATTACHMENT_URL_EXPIRED' : 'UNAVAILABLE');
      reject(new ApiError(code, xhr.status, `upload failed (${xhr.status})`));
    };
    xhr.onerror = xhr.onabort = () =>
      reject(new ApiError(signal.aborted ? 'ABORTED' : 'NETWORK', 0, 'upload failed'));
    signal.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

/** What a chip without a thumbnail shows: the name's extension (PDF, TXT). */
const extension = (name: string): string => name.split('.').pop()?.slice(0, 4).toUpperCase() ?? '';

/** Asks for a link and uploads; resolves with the attachment's id. */
export type Uploader = (
  file: File,
  progress: (loaded: number) => void,
  signal: AbortSignal,
) => Promise<string>;

interface Pending {
  file: File;
  /** An image's object URL and size, for the chip and the own bubble until the ack. */
  preview?: string;
  width?: number;
  height?: number;
  loaded: number;
  bar?: HTMLProgressElement;
  id?: string;
  error?: ApiError;
  abort: AbortController;
  done: Promise<string>;
}

const FAR = '9999-12-31T00:00:00.000Z';

/**
 * The files that go with the next message: a chip each (thumbnail or name and size, upload
 * progress, a button to cancel or remove), uploading as soon as they are picked.
 */
export class Tray {
  readonly el = h('ul', { class: 'tray', hidden: true });
  readonly #items: Pending[] = [];

  constructor(
    private strings: Strings,
    private readonly upload: Uploader,
    private readonly announce: (text: string) => void,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  setStrings(strings: Strings): void {
    this.strings = strings;
    this.#render();
  }

  add(files: readonly File[]): void {
    for (const file of files) {
      const abort = new AbortController();
      const item: Pending = { file, loaded: 0, abort, done: Promise.resolve('') };
      if (file.type.startsWith('image/')) {
        item.preview = URL.createObjectURL(file);
        void createImageBitmap(file).then(
          (bitmap) => {
            item.width = bitmap.width;
            item.height = bitmap.height;
            bitmap.close();
          },
          () => undefined,
        );
      }
      item.done = this.upload(
        file,
        (loaded) => {
          item.loaded = loaded;
          if (item.bar) item.bar.value = loaded;
        },
        abort.signal,
      ).then(
        (id) => {
          item.id = id;
          item.loaded = file.size;
          this.#render();
          return id;
        },
        (error: unknown) => {
          // The API and the upload reject with ApiErrors only.
          item.error = error as ApiError;
          if (item.error.code !== 'ABORTED') {
            this.#render();
            this.announce(`${file.name}: ${refusal(this.strings, item.error.code)}`);
          }
          throw item.error;
        },
      );
      item.done.catch(() => undefined);
      this.#items.push(item);
    }
    this.#render();
  }

  /**
   * The files once every upload finished, as the own bubble shows them until the ack; rejects
   * with the first upload's error (its chip says which).
   */
  async ready(): Promise<Attachment[]> {
    const items = [...this.#items];
    await Promise.all(items.map((i) => i.done));
    return items.map(({ file, id = '', width, height, preview = '' }) => ({
      id,
      name: file.name,
      type: file.type,
      size: file.size,
      width,
      height,
      url: preview,
      urlExpiresAt: FAR,
    }));
  }

  /** The files went with a message: the chips go, their previews stay with the bubble. */
  clear(): void {
    this.#items.length = 0;
    this.#render();
  }

  #remove(item: Pending): void {
    item.abort.abort();
    if (item.preview) URL.revokeObjectURL(item.preview);
    this.#items.splice(this.#items.indexOf(item), 1);
    this.#render();
  }

  #render(): void {
    const s = this.strings;
    this.el.hidden = this.#items.length === 0;
    this.el.replaceChildren(
      ...this.#items.map((item) => {
        const { file } = item;
        const busy = !item.id && !item.error;
        const remove = h(
          'button',
          {
            class: 'icon',
            type: 'button',
            // Removing a file still uploading cancels its upload.
            'aria-label': format(s.removeFile, { name: file.name }),
          },
          icon('close'),
        );
        remove.addEventListener('click', () => this.#remove(item));
        const about = h(
          'span',
          { class: 'about' },
          h('span', { class: 'name', dir: 'auto' }, file.name),
          h('span', { class: 'size' }, fileSize(file.size)),
        );
        if (busy) {
          item.bar = h('progress', {
            max: String(file.size),
            'aria-label': format(s.uploading, { name: file.name }),
          });
          item.bar.value = item.loaded;
          about.append(item.bar);
        }
        if (item.error) about.append(h('span', { class: 'error' }, refusal(s, item.error.code)));
        const chip = h(
          'li',
          { class: 'chip' },
          item.preview
            ? h('img', { class: 'thumb', src: item.preview, alt: '', width: '40', height: '40' })
            : h('span', { class: 'thumb', 'aria-hidden': 'true' }, extension(file.name)),
          about,
          remove,
        );
        return chip;
      }),
    );
  }
}

/** The files of a message: images inline at their size (no jump as they load), others as links. */
export function fileList(files: readonly Attachment[]): HTMLElement {
  return h(
    'div',
    { class: 'files' },
    ...files.map((file) => {
      const image = file.type.startsWith('image/') && file.width && file.height;
      const link = h('a', {
        class: image ? 'image' : 'file',
        target: '_blank',
        rel: 'noopener noreferrer',
        'data-file': file.id,
        'data-expires': file.urlExpiresAt,
      });
      link.href = file.url;
      if (image) {
        const img = h('img', {
          alt: file.name,
          width: String(file.width),
          height: String(file.height),
        });
        img.src = file.url;
        link.append(img);
      } else {
        link.setAttribute('download', file.name);
        // One isolated run: the size stays after the name whatever the widget's direction.
        link.append(
          h(
            'span',
            { dir: 'auto' },
            file.name,
            h('span', { class: 'size' }, ` (${fileSize(file.size)})`),
          ),
        );
      }
      return link;
    }),
  );
}

/** The files the visitor picks, drops onto the panel or pastes (images from the clipboard). */
export function fileInputs(
  panel: HTMLElement,
  input: HTMLTextAreaElement,
  button: HTMLButtonElement,
  attach: (files: File[]) => void,
): HTMLInputElement {
  const picker = h('input', { type: 'file', multiple: true, hidden: true });
  const take = (event: Event, files: FileList | null | undefined) => {
    if (!files?.length) return;
    event.preventDefault();
    attach(Array.from(files));
  };
  button.addEventListener('click', () => picker.click());
  picker.addEventListener('change', (event) => {
    take(event, picker.files);
    picker.value = '';
  });
  // Lets a drop happen anywhere on the panel (a drop without files keeps its default).
  panel.addEventListener('dragover', (event) => event.preventDefault());
  panel.addEventListener('drop', (event) => take(event, event.dataTransfer?.files));
  input.addEventListener('paste', (event) => take(event, event.clipboardData?.files));
  return picker;
}

const stale = (el: Element | null | undefined): boolean =>
  !!el && Date.parse(el.getAttribute('data-expires') ?? '') <= Date.now();

/**
 * Links of files expire: a click on a stale one, or an image that fails to load with a stale
 * link, asks for fresh ones (`refresh`, with the file to open after a click).
 */
export function watchLinks(log: HTMLElement, refresh: (open?: string) => void): void {
  log.addEventListener('click', (event) => {
    const link = (event.target as Element | null)?.closest('a[data-expires]');
    if (!stale(link)) return;
    event.preventDefault();
    refresh(link?.getAttribute('data-file') ?? undefined);
  });
  // Capture: `error` does not bubble.
  log.addEventListener(
    'error',
    (event) => {
      const img = event.target as Element;
      if (img.tagName === 'IMG' && stale(img.closest('a'))) refresh();
    },
    true,
  );
}
