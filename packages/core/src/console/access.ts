/**
 * Who may do what in the admin API and the console: one table, read by the gateway's access
 * hook for every admin route (each route declares the permission it needs) and documented in
 * docs/console.md. The service token acts as an owner.
 */
export const Role = {
  owner: 'owner',
  admin: 'admin',
  supervisor: 'supervisor',
  agent: 'agent',
  viewer: 'viewer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Highest first: a role may hand out, and manage agents of, its own rank and below. */
export const ROLES: readonly Role[] = [
  Role.owner,
  Role.admin,
  Role.supervisor,
  Role.agent,
  Role.viewer,
];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Lower is mightier (owner 0). */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export const Permission = {
  /** Signed in at all: one's own session (who am I, sign out, one's own sessions). */
  session: 'session',
  /** Read agents, groups, templates, priority rules, business hours. */
  settingsRead: 'settings.read',
  /** Read conversations and their transcripts. */
  transcriptsRead: 'transcripts.read',
  /** Read reports (JSON and CSV). */
  reportsRead: 'reports.read',
  /** Change system message templates and saved replies. */
  templatesWrite: 'templates.write',
  /** Change settings: priority rules, business hours, support groups. */
  settingsWrite: 'settings.write',
  /** Register, change and deactivate agents (within one's own rank). */
  agentsManage: 'agents.manage',
  /** Export what is stored about a conversation or a user. */
  dataExport: 'data.export',
  /** Erase what is stored about a conversation or a user. */
  dataErase: 'data.erase',
  /** Read the audit log. */
  auditRead: 'audit.read',
  /** Dead letters: list and replay. */
  operations: 'operations',
  /** Everyone's sessions: list and revoke. */
  sessionsManage: 'sessions.manage',
} as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

const P = Permission;
const READ = [P.session, P.settingsRead, P.transcriptsRead, P.reportsRead] as const;

/** The table itself (docs/console.md shows it). */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  owner: Object.values(P),
  admin: Object.values(P),
  supervisor: [...READ, P.templatesWrite, P.dataExport, P.auditRead],
  agent: [...READ],
  viewer: [...READ],
};

/** Whether `role` may do what `permission` names. */
export function may(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}
