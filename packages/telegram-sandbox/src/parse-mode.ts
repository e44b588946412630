import { sandboxError } from './errors';
import type { MessageEntity } from './telegram.types';

// Telegram's formatting options (https://core.telegram.org/bots/api#formatting-options):
// with a parse_mode the text is parsed into plain text + entities, and markup errors are
// refused with "can't parse entities: …". Emulating the parsers matters because escaping
// mistakes are the usual way a bridge breaks in production. Offsets are UTF-16 units,
// as Telegram's; error positions are UTF-8 byte offsets, as Telegram reports them.

export const ParseMode = {
  HTML: 'HTML',
  MarkdownV2: 'MarkdownV2',
  Markdown: 'Markdown',
} as const;
export type ParseMode = (typeof ParseMode)[keyof typeof ParseMode];

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

export function isParseMode(value: string): value is ParseMode {
  return Object.values(ParseMode).includes(value as ParseMode);
}

export function parseFormattedText(input: string, mode: ParseMode): FormattedText {
  switch (mode) {
    case ParseMode.HTML:
      return parseHtml(input);
    case ParseMode.MarkdownV2:
      return new MarkdownV2Parser(input).parse();
    case ParseMode.Markdown:
      return parseLegacyMarkdown(input);
    default: {
      const unknownMode: never = mode;
      throw new Error(`unhandled parse mode ${String(unknownMode)}`);
    }
  }
}

function parseError(detail: string, source: string, index: number): Error {
  const byteOffset = Buffer.byteLength(source.slice(0, index), 'utf8');
  return sandboxError('ENTITIES_INVALID', {
    description: `Bad Request: can't parse entities: ${detail} at byte offset ${byteOffset}`,
  });
}

function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return entities
    .filter((entity) => entity.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
}

// ---- HTML ----------------------------------------------------------------------------

const HTML_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  span: 'spoiler',
  'tg-spoiler': 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
const HTML_ENTITY = /^&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);/;
const START_TAG =
  /^<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*>/;
const END_TAG = /^<\/([a-zA-Z][a-zA-Z0-9-]*)\s*>/;
const ATTRIBUTE = /([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;

function decodeHtml(value: string): string {
  return value.replace(/&(#\d{1,7}|#x[0-9a-fA-F]{1,6}|lt|gt|amp|quot);/g, (_, name: string) =>
    decodeEntityName(name),
  );
}

function decodeEntityName(name: string): string {
  if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
  if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
  return NAMED_ENTITIES[name] ?? `&${name};`;
}

interface OpenTag {
  name: string;
  offset: number;
  attributes: Map<string, string>;
}

export function parseHtml(input: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i];
    const rest = input.slice(i);
    if (char === '&') {
      const match = HTML_ENTITY.exec(rest);
      if (match?.[1]) {
        text += decodeEntityName(match[1]);
        i += match[0].length;
        continue;
      }
      text += char;
      i += 1;
      continue;
    }
    if (char !== '<') {
      text += char;
      i += 1;
      continue;
    }
    const end = END_TAG.exec(rest);
    if (end?.[1]) {
      const name = end[1].toLowerCase();
      const top = open.pop();
      if (!top) throw parseError(`Unexpected end tag "${name}"`, input, i);
      if (top.name !== name) {
        throw parseError(
          `Unmatched end tag at byte offset, expected "</${top.name}>", found "</${name}>"`,
          input,
          i,
        );
      }
      const entity = htmlEntity(top, text.length - top.offset, open);
      if (entity) entities.push(entity);
      i += end[0].length;
      continue;
    }
    const start = START_TAG.exec(rest);
    const name = start?.[1]?.toLowerCase();
    if (!start || name === undefined || !(name in HTML_TAGS)) {
      throw parseError(`Unsupported start tag "${name ?? ''}"`, input, i);
    }
    const attributes = new Map<string, string>();
    for (const attribute of (start[2] ?? '').matchAll(ATTRIBUTE)) {
      const value = attribute[2] ?? attribute[3] ?? attribute[4] ?? '';
      attributes.set((attribute[1] ?? '').toLowerCase(), decodeHtml(value));
    }
    if (name === 'span' && attributes.get('class') !== 'tg-spoiler') {
      throw parseError('Tag "span" must have class "tg-spoiler"', input, i);
    }
    open.push({ name, offset: text.length, attributes });
    i += start[0].length;
  }
  const unclosed = open[open.length - 1];
  if (unclosed) {
    throw parseError(
      `Can't find end tag corresponding to start tag "${unclosed.name}"`,
      input,
      input.length,
    );
  }
  return { text, entities: mergePreCode(sortEntities(entities)) };
}

function htmlEntity(tag: OpenTag, length: number, outer: OpenTag[]): MessageEntity | undefined {
  const base = { offset: tag.offset, length };
  switch (tag.name) {
    case 'a': {
      const url = tag.attributes.get('href') ?? '';
      return url ? { type: 'text_link', ...base, url } : undefined;
    }
    case 'code': {
      // <pre><code class="language-x"> is one pre entity with a language.
      const language = /^language-(.+)$/.exec(tag.attributes.get('class') ?? '')?.[1];
      const inPre = outer[outer.length - 1]?.name === 'pre';
      if (inPre) return language ? { type: 'pre', ...base, language } : { type: 'code', ...base };
      return { type: 'code', ...base };
    }
    case 'blockquote':
      return {
        type: tag.attributes.has('expandable') ? 'expandable_blockquote' : 'blockquote',
        ...base,
      };
    case 'tg-emoji':
      return {
        type: 'custom_emoji',
        ...base,
        custom_emoji_id: tag.attributes.get('emoji-id') ?? '',
      };
    default:
      return { type: HTML_TAGS[tag.name] ?? 'bold', ...base };
  }
}

/** Folds a code entity that fills a pre entity into it (the HTML pre+code idiom). */
function mergePreCode(entities: MessageEntity[]): MessageEntity[] {
  const result: MessageEntity[] = [];
  for (const entity of entities) {
    const previous = result[result.length - 1];
    const sameSpan =
      previous && previous.offset === entity.offset && previous.length === entity.length;
    if (sameSpan && previous.type === 'pre' && (entity.type === 'code' || entity.type === 'pre')) {
      if (entity.language) previous.language = entity.language;
      continue;
    }
    result.push(entity);
  }
  return result;
}

// ---- MarkdownV2 ----------------------------------------------------------------------

const MARKDOWN_V2_RESERVED = new Set('_*[]()~`>#+-=|{}.!');

const V2_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
  custom_emoji: 'CustomEmoji',
};

interface OpenEntity {
  type: string;
  offset: number;
  sourceIndex: number;
}

class MarkdownV2Parser {
  private text = '';
  private readonly entities: MessageEntity[] = [];
  private readonly open: OpenEntity[] = [];
  private quote: { offset: number; expandable: boolean; sourceIndex: number } | undefined;
  private i = 0;

  constructor(private readonly input: string) {}

  parse(): FormattedText {
    const { input } = this;
    while (this.i < input.length) {
      if (this.atLineStart()) this.lineStart();
      const char = input[this.i] ?? '';
      const next = input[this.i + 1];
      if (char === '\\') {
        this.escaped();
      } else if (char === '*') {
        this.toggle('bold', 1);
      } else if (char === '_') {
        if (next === '_') this.toggle('underline', 2);
        else this.toggle('italic', 1);
      } else if (char === '~') {
        this.toggle('strikethrough', 1);
      } else if (char === '|' && next === '|') {
        if (this.quote?.expandable && this.endsLine(this.i + 2)) {
          this.i += 2;
        } else {
          this.toggle('spoiler', 2);
        }
      } else if (char === '[') {
        this.openEntity('text_link', 1);
      } else if (char === '!' && next === '[') {
        this.openEntity('custom_emoji', 2);
      } else if (char === ']' && this.isOpen('text_link', 'custom_emoji')) {
        this.closeLink();
      } else if (char === '`') {
        this.code();
      } else if (char === '\n') {
        if (this.quote && input[this.i + 1] !== '>') this.closeQuote();
        this.text += char;
        this.i += 1;
      } else if (MARKDOWN_V2_RESERVED.has(char)) {
        throw parseError(
          `Character '${char}' is reserved and must be escaped with the preceding '\\'`,
          input,
          this.i,
        );
      } else {
        const codePoint = input.codePointAt(this.i) ?? 0;
        const literal = String.fromCodePoint(codePoint);
        this.text += literal;
        this.i += literal.length;
      }
    }
    const unclosed = this.open[this.open.length - 1];
    if (unclosed) {
      throw parseError(
        `Can't find end of ${V2_NAMES[unclosed.type] ?? unclosed.type} entity`,
        input,
        unclosed.sourceIndex,
      );
    }
    if (this.quote) this.closeQuote();
    return { text: this.text, entities: sortEntities(this.entities) };
  }

  private atLineStart(): boolean {
    return this.i === 0 || this.input[this.i - 1] === '\n';
  }

  private endsLine(index: number): boolean {
    return index >= this.input.length || this.input[index] === '\n';
  }

  private lineStart(): void {
    const { input } = this;
    if (input.startsWith('**>', this.i)) {
      this.quote ??= { offset: this.text.length, expandable: true, sourceIndex: this.i };
      this.i += 3;
    } else if (input[this.i] === '>') {
      this.quote ??= { offset: this.text.length, expandable: false, sourceIndex: this.i };
      this.i += 1;
    }
  }

  private closeQuote(): void {
    if (!this.quote) return;
    this.entities.push({
      type: this.quote.expandable ? 'expandable_blockquote' : 'blockquote',
      offset: this.quote.offset,
      length: this.text.length - this.quote.offset,
    });
    this.quote = undefined;
  }

  private escaped(): void {
    const next = this.input[this.i + 1];
    const code = next?.charCodeAt(0) ?? 0;
    if (next === undefined || code < 1 || code > 126) {
      throw parseError(
        "Character '\\' is reserved and must be escaped with the preceding '\\'",
        this.input,
        this.i,
      );
    }
    this.text += next;
    this.i += 2;
  }

  private isOpen(...types: string[]): boolean {
    return this.open.some((entity) => types.includes(entity.type));
  }

  private openEntity(type: string, width: number): void {
    this.open.push({ type, offset: this.text.length, sourceIndex: this.i });
    this.i += width;
  }

  private toggle(type: string, width: number): void {
    const index = this.open.findLastIndex((entity) => entity.type === type);
    if (index === -1) {
      this.openEntity(type, width);
      return;
    }
    const [entity] = this.open.splice(index, 1);
    if (entity) {
      this.entities.push({ type, offset: entity.offset, length: this.text.length - entity.offset });
    }
    this.i += width;
  }

  private closeLink(): void {
    const { input } = this;
    const index = this.open.findLastIndex(
      (entity) => entity.type === 'text_link' || entity.type === 'custom_emoji',
    );
    const [entity] = this.open.splice(index, 1);
    if (!entity) return;
    if (input[this.i + 1] !== '(') {
      // "[text]" without a url is plain text in Telegram.
      this.i += 1;
      return;
    }
    let url = '';
    let j = this.i + 2;
    for (; j < input.length && input[j] !== ')'; j += 1) {
      if (input[j] === '\\' && j + 1 < input.length) j += 1;
      url += input[j];
    }
    if (j >= input.length) throw parseError("Can't find end of a url", input, this.i + 1);
    const base = { offset: entity.offset, length: this.text.length - entity.offset };
    if (entity.type === 'custom_emoji') {
      const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(url)?.[1] ?? '';
      this.entities.push({ type: 'custom_emoji', ...base, custom_emoji_id: id });
    } else {
      this.entities.push({ type: 'text_link', ...base, url });
    }
    this.i = j + 1;
  }

  private code(): void {
    const { input } = this;
    const pre = input.startsWith('```', this.i);
    const start = this.i;
    let j = this.i + (pre ? 3 : 1);
    let language = '';
    if (pre) {
      const newline = input.indexOf('\n', j);
      const firstLine = newline === -1 ? '' : input.slice(j, newline);
      if (newline !== -1 && /^[^\s`]+$/.test(firstLine)) {
        language = firstLine;
        j = newline + 1;
      } else if (input[j] === '\n') {
        j += 1;
      }
    }
    const offset = this.text.length;
    const fence = pre ? '```' : '`';
    while (j < input.length && !input.startsWith(fence, j)) {
      if (input[j] === '\\' && j + 1 < input.length) j += 1;
      this.text += input[j];
      j += 1;
    }
    if (j >= input.length) {
      throw parseError(`Can't find end of ${pre ? 'PreCode' : 'Code'} entity`, input, start);
    }
    const length = this.text.length - offset;
    if (pre) this.entities.push({ type: 'pre', offset, length, ...(language ? { language } : {}) });
    else this.entities.push({ type: 'code', offset, length });
    this.i = j + fence.length;
  }
}

// ---- Markdown (legacy) -----------------------------------------------------------------

function parseLegacyMarkdown(input: string): FormattedText {
  let text = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  const unclosed = (at: number): Error =>
    parseError("Can't find end of the entity starting", input, at);
  while (i < input.length) {
    const char = input[i] ?? '';
    if (char === '\\' && '_*`['.includes(input[i + 1] ?? '.')) {
      text += input[i + 1];
      i += 2;
      continue;
    }
    if (char === '*' || char === '_') {
      const end = input.indexOf(char, i + 1);
      if (end === -1) throw unclosed(i);
      entities.push({
        type: char === '*' ? 'bold' : 'italic',
        offset: text.length,
        length: end - i - 1,
      });
      text += input.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (char === '`') {
      const pre = input.startsWith('```', i);
      const fence = pre ? '```' : '`';
      const end = input.indexOf(fence, i + fence.length);
      if (end === -1) throw unclosed(i);
      let body = input.slice(i + fence.length, end);
      let language: string | undefined;
      if (pre) {
        const newline = body.indexOf('\n');
        if (newline > 0 && /^[^\s]+$/.test(body.slice(0, newline))) {
          language = body.slice(0, newline);
          body = body.slice(newline + 1);
        }
      }
      entities.push({
        type: pre ? 'pre' : 'code',
        offset: text.length,
        length: body.length,
        ...(language ? { language } : {}),
      });
      text += body;
      i = end + fence.length;
      continue;
    }
    if (char === '[') {
      const close = input.indexOf('](', i + 1);
      const end = close === -1 ? -1 : input.indexOf(')', close + 2);
      if (close === -1 || end === -1) throw unclosed(i);
      const label = input.slice(i + 1, close);
      entities.push({
        type: 'text_link',
        offset: text.length,
        length: label.length,
        url: input.slice(close + 2, end),
      });
      text += label;
      i = end + 1;
      continue;
    }
    text += char;
    i += 1;
  }
  return { text, entities: sortEntities(entities) };
}
