import type { Fanout } from '@topicdesk/fanout';

/** What the registry needs of an open visitor socket (VisitorSocket). */
export interface OpenSocket {
  readonly claims: { tenantId: string };
  /** The fanout resubscribed after losing Redis: read what may have been published meanwhile. */
  recovered(): void;
  /** Its tenant was suspended or deleted: told so, then closed. */
  tenantInactive(): void;
}

/**
 * The open sockets of each fanout, told together when it recovered: one listener per fanout
 * rather than a closure per socket.
 */
const recovering = new WeakMap<Fanout, Set<OpenSocket>>();

export function socketsOf(fanout: Fanout): Set<OpenSocket> {
  let sockets = recovering.get(fanout);
  if (!sockets) {
    const created = new Set<OpenSocket>();
    fanout.onRecovered(() => {
      for (const socket of created) socket.recovered();
    });
    recovering.set(fanout, created);
    sockets = created;
  }
  return sockets;
}

/**
 * Closes this replica's open sockets of `tenantId` with 4403 (an `error` frame TENANT_INACTIVE
 * first): the tenant was suspended or deleted, and its token is refused from now on. Answers
 * how many were closed.
 */
export function closeTenantSockets(fanout: Fanout, tenantId: string): number {
  let closed = 0;
  for (const socket of socketsOf(fanout))
    if (socket.claims.tenantId === tenantId) {
      socket.tenantInactive();
      closed += 1;
    }
  return closed;
}
