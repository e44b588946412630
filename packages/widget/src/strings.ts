/** Every text the widget shows. `{name}`, `{n}` and `{ticket}` are filled in where they appear. */
export const defaultStrings = {
  title: 'Support',
  subtitle: 'We usually answer within minutes',
  open: 'Open support chat',
  close: 'Close chat',
  greeting: 'Hi! Ask us anything and a person from our team will answer here.',
  placeholder: 'Write a message…',
  messageLabel: 'Message',
  send: 'Send',
  you: 'You',
  sending: 'Sending…',
  queued: 'Waiting for the network…',
  sent: 'Sent',
  delivered: 'Delivered',
  retrying: 'Retrying…',
  failed: 'Not sent',
  retry: 'Retry',
  tooLong: 'Too long to send',
  rateLimited: 'Too many messages; try again later',
  closed: 'This conversation is closed.',
  newConversation: 'Start a new conversation',
  download: 'Download this conversation',
  ended: 'Conversation {ticket} ended',
  dailyLimit:
    'Not sent: you have started as many conversations today as we allow. You can write again from {time}.',
  offline: 'You are offline. Messages will be sent when you are back.',
  reconnecting: 'Reconnecting…',
  unread: '{n} unread',
  newMessage: 'New message from {name}: {text}',
  ticket: 'Ticket {ticket}',
  edited: 'edited',
  deleted: 'This message was deleted',
  dismiss: 'Dismiss',
  sound: 'Sound notifications',
  yourName: 'Your name',
  editName: 'Change your name',
  anonymous: 'Guest',
  save: 'Save',
  cancel: 'Cancel',
  log: 'Conversation',
  /** The page's title while messages wait unread: `{n}` of them, `{title}` the site's title. */
  titleUnread: '({n}) {title}',
  preChatIntro: 'Before you write: how should we address you and where can we reach you?',
  yourEmail: 'Your e-mail address',
  optional: 'optional',
  startChat: 'Start the chat',
  nameRequired: 'Please enter your name.',
  emailRequired: 'Please enter your e-mail address.',
  emailInvalid: 'Please enter an e-mail address such as name@example.com.',
  rateQuestion: 'How would you rate this conversation?',
  /** A star's name for screen readers: `{n}` of 5, `{label}` one of rate1–rate5. */
  rateStar: '{n} of 5: {label}',
  rate1: 'Very poor',
  rate2: 'Poor',
  rate3: 'Okay',
  rate4: 'Good',
  rate5: 'Excellent',
  rateComment: 'Anything to add?',
  rateSend: 'Send rating',
  rateThanks: 'Thank you for your rating!',
  rateChoose: 'Please choose from 1 to 5 stars.',
  rateFailed: 'Your rating could not be sent. Please try again.',
  attach: 'Attach files',
  /** A file's chip before sending; `{name}` the file's name. */
  uploading: 'Uploading {name}',
  removeFile: 'Remove {name}',
  /** A refused file; the widget adds the error code in brackets. */
  fileTooLarge: 'File too large',
  fileTotal: 'No room for more files',
  fileType: 'File type not accepted',
  fileInvalid: 'File unreadable',
  fileInfected: 'Refused by the malware scan',
  fileFailed: 'File not sent',
};

export type Strings = typeof defaultStrings;
export type StringOverrides = Partial<Strings>;

/** Languages written right to left (primary subtag). */
const RTL = new Set([
  'ar',
  'arc',
  'ckb',
  'dv',
  'fa',
  'he',
  'iw',
  'ks',
  'ps',
  'sd',
  'ug',
  'ur',
  'yi',
]);

export function isRtl(locale: string): boolean {
  return RTL.has(locale.toLowerCase().split(/[-_]/)[0] ?? '');
}

/**
 * The strings for a locale: defaults, then the closest `stringsByLocale` entry (`pt-BR`, then
 * `pt`), then `strings`, which win over everything.
 */
export function resolveStrings(
  locale: string,
  byLocale: Record<string, StringOverrides> = {},
  overrides: StringOverrides = {},
): Strings {
  const lower: Record<string, StringOverrides> = {};
  for (const [key, value] of Object.entries(byLocale)) lower[key.toLowerCase()] = value;
  const tag = locale.toLowerCase().replace(/_/g, '-');
  const primary = tag.split('-')[0] ?? tag;
  return { ...defaultStrings, ...lower[primary], ...lower[tag], ...overrides };
}

export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in values ? String(values[key]) : whole,
  );
}
