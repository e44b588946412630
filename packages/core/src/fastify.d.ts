import 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Makes /readyz answer 503 while the process drains. */
    markDraining(): void;
  }
}
