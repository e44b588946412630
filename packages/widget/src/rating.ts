import { MAX_RATING_COMMENT_CHARS, type RatingView } from '@topicdesk/protocol';
import { ApiError } from './api';
import { h } from './dom';
import { format, type Strings } from './strings';

const SCORES = [1, 2, 3, 4, 5] as const;
type ScoreLabel = 'rate1' | 'rate2' | 'rate3' | 'rate4' | 'rate5';

/** What the rating prompt needs of the widget: the API calls and where it shows. */
export interface RatingHooks {
  /** The conversation's rating (null: none yet); undefined when the conversation is gone. */
  load(): Promise<RatingView | null | undefined>;
  /** Sends the rating; throws ApiError (ALREADY_RATED counts as done). */
  submit(score: number, comment: string): Promise<void>;
  /** The prompt is waiting (true): keep the conversation for a later visit; done (false): not. */
  keep(waiting: boolean): void;
  /** Shows the prompt in the closed footer, or removes it (undefined). */
  show(el: HTMLElement | undefined): void;
  /** Says a text to screen readers (the widget's live region). */
  announce(text: string): void;
}

/**
 * CSAT after a close: 1–5 stars (native radio buttons in a fieldset, so arrow keys, labels and
 * the screen reader's "3 of 5" work as in any form) and an optional comment, asked once per
 * conversation. Whether it was rated is the server's to say (`GET /v1/conversations/:id`), so a
 * reload, or another tab, asks only if it was not.
 */
export class RatingPrompt {
  readonly #form: HTMLFormElement;
  readonly #legend: HTMLLegendElement;
  readonly #stars: Array<{ input: HTMLInputElement; text: HTMLSpanElement }> = [];
  readonly #commentLabel: HTMLLabelElement;
  readonly #comment: HTMLTextAreaElement;
  readonly #error: HTMLParagraphElement;
  readonly #button: HTMLButtonElement;
  readonly #thanks: HTMLParagraphElement;
  #strings: Strings;
  /** The conversation whose rating was asked for (once per conversation). */
  #asked = false;
  #sending = false;

  constructor(
    strings: Strings,
    private readonly hooks: RatingHooks,
  ) {
    this.#strings = strings;
    this.#legend = h('legend', { id: 'td-rating-q' });
    const stars = h('div', { class: 'stars' });
    for (const score of SCORES) {
      const input = h('input', {
        type: 'radio',
        name: 'td-score',
        value: String(score),
        class: 'sr',
        'aria-describedby': 'td-rating-error',
      });
      const text = h('span', { class: 'sr' });
      stars.append(h('label', {}, input, h('span', { 'aria-hidden': 'true' }, '★'), text));
      input.addEventListener('change', () => this.#paint());
      this.#stars.push({ input, text });
    }
    this.#commentLabel = h('label', { for: 'td-rating-comment' });
    this.#comment = h('textarea', {
      id: 'td-rating-comment',
      rows: '2',
      maxlength: String(MAX_RATING_COMMENT_CHARS),
      dir: 'auto',
    });
    this.#error = h('p', { class: 'error', id: 'td-rating-error', hidden: true });
    this.#button = h('button', { class: 'primary', type: 'submit' });
    this.#form = h(
      'form',
      { class: 'rating', novalidate: true },
      h('fieldset', {}, this.#legend, stars),
      this.#commentLabel,
      this.#comment,
      this.#error,
      this.#button,
    );
    this.#thanks = h('p', { class: 'thanks', role: 'status' });
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#submit();
    });
    this.setStrings(strings);
  }

  /** Whether a rating is asked for and not given yet (the conversation is worth keeping). */
  get waiting(): boolean {
    return this.#asked && this.#form.isConnected;
  }

  setStrings(strings: Strings): void {
    this.#strings = strings;
    this.#legend.textContent = strings.rateQuestion;
    this.#stars.forEach(({ text }, i) => {
      const score = i + 1;
      text.textContent = format(strings.rateStar, {
        n: score,
        label: strings[`rate${score}` as ScoreLabel],
      });
    });
    this.#commentLabel.textContent = `${strings.rateComment} (${strings.optional})`;
    this.#button.textContent = strings.rateSend;
    this.#thanks.textContent = strings.rateThanks;
  }

  /** The conversation closed (live, or found closed on a visit): ask, unless it was rated. */
  async ask(): Promise<void> {
    if (this.#asked) return;
    this.#asked = true;
    let rating: RatingView | null | undefined;
    try {
      rating = await this.hooks.load();
    } catch {
      // Offline or the gateway is busy: ask anyway; the server refuses a second rating.
      rating = null;
    }
    if (!this.#asked) return;
    if (rating !== null) return this.hooks.keep(false);
    this.hooks.keep(true);
    this.hooks.show(this.#form);
  }

  /** A new conversation: nothing is asked until it closes. */
  reset(): void {
    this.#asked = false;
    this.#form.reset();
    this.#paint();
    this.#showError(undefined);
    this.hooks.show(undefined);
  }

  #score(): number | undefined {
    const checked = this.#stars.find(({ input }) => input.checked);
    return checked ? Number(checked.input.value) : undefined;
  }

  /** Stars up to the chosen one are filled. */
  #paint(): void {
    const score = this.#score() ?? 0;
    this.#stars.forEach(({ input }, i) => input.parentElement?.classList.toggle('on', i < score));
    if (score > 0) this.#showError(undefined);
  }

  #showError(text: string | undefined): void {
    this.#error.hidden = text === undefined;
    this.#error.textContent = text ?? '';
    for (const { input } of this.#stars)
      if (text === this.#strings.rateChoose) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
  }

  async #submit(): Promise<void> {
    if (this.#sending) return;
    const score = this.#score();
    if (score === undefined) {
      this.#showError(this.#strings.rateChoose);
      this.#stars[0]?.input.focus();
      return this.hooks.announce(this.#strings.rateChoose);
    }
    this.#sending = true;
    this.#button.disabled = true;
    try {
      await this.hooks.submit(score, this.#comment.value);
      this.#done();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'ALREADY_RATED') return this.#done();
      this.#showError(this.#strings.rateFailed);
      this.hooks.announce(this.#strings.rateFailed);
    } finally {
      this.#sending = false;
      this.#button.disabled = false;
    }
  }

  /** Rated: the form gives way to a thank-you (said aloud), focus stays in the footer. */
  #done(): void {
    const root = this.#form.getRootNode();
    const focusWasIn = root instanceof ShadowRoot && this.#form.contains(root.activeElement);
    this.hooks.show(this.#thanks);
    this.hooks.keep(false);
    this.hooks.announce(this.#strings.rateThanks);
    if (focusWasIn) this.#thanks.parentElement?.querySelector('button')?.focus();
  }
}
