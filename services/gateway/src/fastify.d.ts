import 'fastify';
import type { ConversationClaims } from './tokens';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The claims of the visitor's token, checked by the WebSocket upgrade's preValidation against
     * the conversation's row; null on every other request.
     */
    visitorClaims: ConversationClaims | null;
  }
}
