import type { TenantSecretsSummary } from '@topicdesk/data';
import { fingerprint } from './envelope';

/**
 * A tenant's secrets bundle, the plain form of what is stored encrypted (migration 0023): what
 * the environment holds for the default tenant (BOT_TOKEN, SENDER_BOT_TOKENS, the support
 * groups, CONVERSATION_JWT_SECRET, SERVICE_TOKEN, TELEGRAM_USER_KEY). The platform API checks
 * each value's form (services/gateway, platform.routes.ts).
 */
export interface TenantSecrets {
  botToken?: string;
  senderBotTokens?: string[];
  /** Chat ids of the support groups, the first the default group. */
  supportGroups?: string[];
  jwtSecret?: string;
  serviceToken?: string;
  telegramUserKey?: string;
}
export type TenantSecretName = keyof TenantSecrets;
export const TENANT_SECRET_NAMES = [
  'botToken',
  'senderBotTokens',
  'supportGroups',
  'jwtSecret',
  'serviceToken',
  'telegramUserKey',
] as const satisfies readonly TenantSecretName[];

/** A change of the bundle: a value sets, `null` clears, an absent name keeps. */
export type TenantSecretsChange = { [K in TenantSecretName]?: TenantSecrets[K] | null };

/** `secrets` with `change` applied. */
export function applySecretsChange(
  secrets: TenantSecrets,
  change: TenantSecretsChange,
): TenantSecrets {
  const next: Record<string, unknown> = { ...secrets };
  for (const name of TENANT_SECRET_NAMES) {
    const value = change[name];
    if (value === undefined) continue;
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next;
}

/** The stored summary: which secrets are set, each with its fingerprint (lists with a count). */
export function summarize(dataKey: Buffer, secrets: TenantSecrets): TenantSecretsSummary {
  const summary: TenantSecretsSummary = {};
  for (const name of TENANT_SECRET_NAMES) {
    const value = secrets[name];
    if (value === undefined) continue;
    summary[name] = Array.isArray(value)
      ? { fingerprint: fingerprint(dataKey, name, value.join('\n')), count: value.length }
      : { fingerprint: fingerprint(dataKey, name, value) };
  }
  return summary;
}

/** What the platform API shows of the bundle: per secret, set or not, and its fingerprint. */
export function secretsView(summary: TenantSecretsSummary) {
  return Object.fromEntries(
    TENANT_SECRET_NAMES.map((name) => {
      const entry = summary[name];
      return [name, entry ? { set: true, ...entry } : { set: false }];
    }),
  ) as Record<TenantSecretName, { set: boolean; fingerprint?: string; count?: number }>;
}
