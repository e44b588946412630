// The answers the console reads, by the names its pages use: each is a type of schema.gen.ts,
// generated from /openapi.json, whose answer schemas are the ones the gateway's routes declare
// (services/gateway/src/answers.ts). Types only: nothing here reaches the bundle.
import type { components, paths } from './schema.gen';

type Schemas = components['schemas'];
type JsonOf<Answer> = Answer extends { content: { 'application/json': infer Body } } ? Body : never;

export type Role = Schemas['Role'];
/** Highest rank first, as the access table lists them (docs/console.md). */
export const ROLES: readonly Role[] = ['owner', 'admin', 'supervisor', 'agent', 'viewer'];

export type SessionView = Schemas['Session'];
export type SessionAnswer = Schemas['ConsoleSession'];

export type Agent = Schemas['AgentListItem'];
export type Template = Schemas['Template'];
export type Group = Schemas['Group'];
export type PriorityRule = Schemas['PriorityRule'];
export type AuditEntry = Schemas['AuditEntry'];

export type BusinessHours = Schemas['BusinessHours'];
/** The week as the settings page shows it: Monday first. */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
export type Interval = NonNullable<NonNullable<BusinessHours['weekly']>[Day]>[number];

export type SlaSettings = Schemas['SlaSettings'];

export type Report = Schemas['Report'];

export type ConversationPage = JsonOf<paths['/v1/admin/conversations']['get']['responses'][200]>;
export type TranscriptMessage = Schemas['TranscriptMessage'];
export type Transcript = Schemas['Transcript'];

export type Overview = Schemas['Overview'];
export type OverviewAgent = Overview['agentsOnline'][number];
export type OverviewTelegram = Schemas['OverviewTelegram'];
export type OverviewBot = Schemas['OverviewBot'];

export type Tombstone = Schemas['Tombstone'];

export type SetupAnswer = Schemas['SetupChecks'];
export type Snippet = Schemas['Snippet'];

export type Tenant = Schemas['Tenant'];
export type TenantLimits = Tenant['limits'];
export type PlatformSession = Schemas['PlatformSession'];
