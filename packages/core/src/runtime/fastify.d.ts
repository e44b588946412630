import 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Makes /readyz answer 503 while the process drains. */
    markDraining(): void;
    /** `close()`, cutting whatever connections are still open after `graceMs`. */
    closeWithin(graceMs: number): Promise<void>;
  }
}
