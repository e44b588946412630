import { BusInvalidOptionError } from './errors';

/** Namespaces, streams, durables and queue groups: one NATS token, no dots or wildcards. */
const namePattern = /^[A-Za-z0-9_-]+$/;
/** Relative subjects: dot-separated tokens of the same alphabet (no wildcards). */
const subjectPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function assertName(kind: string, value: string): string {
  if (!namePattern.test(value)) {
    throw new BusInvalidOptionError(
      `${kind} must match ${String(namePattern)}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function assertSubject(value: string): string {
  if (!subjectPattern.test(value)) {
    throw new BusInvalidOptionError(
      `subject must be dot-separated tokens matching ${String(namePattern)}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** How relative names become server names, so several instances and test runs share one NATS. */
export interface Naming {
  readonly namespace: string;
  /** `conversation.sync` → `<namespace>.conversation.sync` */
  subject(relative: string): string;
  /** `SYNC` → `<namespace>_SYNC` */
  stream(relative: string): string;
  /** `bridge` → `<namespace>_bridge` */
  durable(relative: string): string;
}

export function createNaming(namespace: string): Naming {
  assertName('namespace', namespace);
  return {
    namespace,
    subject: (relative) => `${namespace}.${assertSubject(relative)}`,
    stream: (relative) => `${namespace}_${assertName('stream', relative)}`,
    durable: (relative) => `${namespace}_${assertName('durable', relative)}`,
  };
}
