import { isPlausibleEmail, MAX_EMAIL_CHARS, MAX_NAME_CHARS } from '@topicdesk/protocol';
import { h } from './dom';
import type { Strings } from './strings';

export type PreChatRule = 'optional' | 'required';

/**
 * The site's pre-chat form: which fields to ask for before the first message of a new
 * conversation. Absent (or no field): no form. The e-mail reaches the agents only where the
 * gateway's operator enabled it (`PRECHAT_FIELDS=email`); elsewhere the conversation starts
 * without it and the widget says so in the console.
 */
export interface PreChatOptions {
  name?: PreChatRule;
  email?: PreChatRule;
}

export interface PreChatDetails {
  name?: string;
  email?: string;
}

type Field = 'name' | 'email';

interface Control {
  input: HTMLInputElement;
  label: HTMLSpanElement;
  marker: HTMLSpanElement;
  error: HTMLParagraphElement;
  rule: PreChatRule;
}

/** Why a field's value cannot go, as the key of its message, or undefined. */
export function fieldProblem(
  field: Field,
  value: string,
  rule: PreChatRule,
): 'nameRequired' | 'emailRequired' | 'emailInvalid' | undefined {
  if (value === '') return rule === 'required' ? `${field}Required` : undefined;
  return field === 'email' && !isPlausibleEmail(value) ? 'emailInvalid' : undefined;
}

/**
 * The form itself: labelled fields with the browser's autofill hints, each error tied to its
 * field (`aria-invalid`, `aria-describedby`) and said aloud, and a button that lets the visitor
 * write. It holds what was typed; the controller decides where it goes.
 */
export class PreChatForm {
  readonly el: HTMLFormElement;
  readonly #intro: HTMLParagraphElement;
  readonly #button: HTMLButtonElement;
  readonly #controls = new Map<Field, Control>();
  #strings: Strings;

  constructor(
    options: PreChatOptions,
    strings: Strings,
    private readonly done: (details: PreChatDetails) => void,
    /** Says a text to screen readers (the widget's live region). */
    private readonly announce: (text: string) => void,
  ) {
    this.#strings = strings;
    this.#intro = h('p', { class: 'intro', id: 'td-prechat-intro' });
    this.#button = h('button', { class: 'primary', type: 'submit' });
    this.el = h(
      'form',
      { class: 'prechat', novalidate: true, 'aria-labelledby': 'td-prechat-intro' },
      this.#intro,
    );
    for (const field of ['name', 'email'] as const) {
      const rule = options[field];
      if (rule) this.#add(field, rule);
    }
    this.el.append(this.#button);
    this.el.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.setStrings(strings);
  }

  /** Whether the options ask for any field at all. */
  static wanted(options: PreChatOptions | undefined): options is PreChatOptions {
    return Boolean(options?.name || options?.email);
  }

  get firstInput(): HTMLInputElement | undefined {
    return this.#controls.values().next().value?.input;
  }

  setStrings(strings: Strings): void {
    this.#strings = strings;
    this.#intro.textContent = strings.preChatIntro;
    this.#button.textContent = strings.startChat;
    for (const [field, control] of this.#controls) {
      control.label.textContent = field === 'name' ? strings.yourName : strings.yourEmail;
      control.marker.textContent = control.rule === 'optional' ? ` (${strings.optional})` : '';
      this.#check(field, control, false);
    }
  }

  #add(field: Field, rule: PreChatRule): void {
    const id = `td-prechat-${field}`;
    const input = h('input', {
      id,
      name: field,
      type: field === 'email' ? 'email' : 'text',
      autocomplete: field,
      maxlength: String(field === 'email' ? MAX_EMAIL_CHARS : MAX_NAME_CHARS),
      'aria-describedby': `${id}-error`,
      ...(rule === 'required' ? { required: true, 'aria-required': 'true' } : {}),
      ...(field === 'email'
        ? { inputmode: 'email', autocapitalize: 'off', spellcheck: 'false', dir: 'ltr' }
        : { dir: 'auto' }),
    });
    const label = h('span');
    const marker = h('span', { class: 'optional' });
    const error = h('p', { class: 'error', id: `${id}-error`, hidden: true });
    this.el.append(
      h('div', { class: 'field' }, h('label', { for: id }, label, marker), input, error),
    );
    // A shown error goes away as soon as the value is fixed.
    input.addEventListener('input', () => {
      if (!error.hidden) this.#check(field, this.#controls.get(field)!, true);
    });
    this.#controls.set(field, { input, label, marker, error, rule });
  }

  /** Shows (with `show`) or clears the field's error; whether its value may go. */
  #check(field: Field, control: Control, show: boolean): boolean {
    const problem = fieldProblem(field, control.input.value.trim(), control.rule);
    const visible = show && problem !== undefined;
    control.error.hidden = !visible;
    control.error.textContent = visible ? this.#strings[problem] : '';
    if (visible) control.input.setAttribute('aria-invalid', 'true');
    else control.input.removeAttribute('aria-invalid');
    return problem === undefined;
  }

  #submit(): void {
    const details: PreChatDetails = {};
    let invalid: Control | undefined;
    for (const [field, control] of this.#controls) {
      if (!this.#check(field, control, true)) invalid ??= control;
      const value = control.input.value.trim();
      if (value) details[field] = value;
    }
    if (!invalid) return this.done(details);
    invalid.input.focus();
    this.announce(invalid.error.textContent ?? '');
  }
}
