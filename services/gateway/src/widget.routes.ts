import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

const demoPage = readFileSync(new URL('./public/demo.html', import.meta.url), 'utf8');

/** The visitor-facing static assets: the demo page (and, with the widget, its script). */
export const widgetRoutes: FastifyPluginAsync = async (app) => {
  app.get('/demo', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(demoPage),
  );
};
