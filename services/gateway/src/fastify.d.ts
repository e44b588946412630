import 'fastify';
import type { Permission, Principal } from '@topicdesk/core';
import type { RouteDoc } from './openapi';
import type { SocketSeat } from './tenant-sockets';
import type { ConversationClaims } from './tokens';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The claims of the visitor's token, checked by the WebSocket upgrade's preValidation against
     * the conversation's row; null on every other request.
     */
    visitorClaims: ConversationClaims | null;
    /**
     * The upgrade's seat among its tenant's open sockets (TenantSockets), taken by preValidation:
     * refused past the tenant's `concurrentSockets` (the socket then gets the error frame and
     * 4429); null on every other request.
     */
    socketSeat: SocketSeat | null;
    /** Who called an admin route (admin-access.ts), set before its handler runs; else null. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /**
     * What the route needs (packages/core's access table). Every /v1/admin and /v1/console route
     * declares one: registering one without it fails (admin-access.ts).
     */
    permission?: Permission;
    /** The route in /openapi.json (openapi.ts); every API route has one. */
    doc?: RouteDoc;
  }
}
