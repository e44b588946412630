import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '@topicdesk/console/build';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

describe('the console page: one page for every path, its hashed files, a strict CSP', () => {
  let gateway: GatewayUnderTest;
  let app: FastifyInstance;
  let manifest: { js: string; css: string; integrity: { js: string; css: string } };

  beforeAll(async () => {
    manifest = (await buildConsole({ write: true })).manifest;
    gateway = await startGatewayUnderTest({ namespace: `console-page-${process.pid}` });
    app = gateway.app;
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('answers /console and any path below it with the page naming the current build', async () => {
    for (const url of [
      '/console',
      '/console/',
      '/console/conversations/SUPP-ABC',
      '/console/x/y',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      // Framed by nobody but Telegram's web client (Mini Apps).
      expect(csp).toMatch(/frame-ancestors https:\/\/web\.telegram\.org(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers['x-frame-options']).toBeUndefined();
      expect(response.body).toContain(
        `<script type="module" src="/console/assets/${manifest.js}" integrity="${manifest.integrity.js}">`,
      );
      expect(response.body).toContain(`href="/console/assets/${manifest.css}"`);
      // No inline script: the CSP would refuse it.
      expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
    // The sign-in page is its own route, not the console's.
    const signIn = await app.inject({ method: 'GET', url: '/console/sign-in?t=x' });
    expect(signIn.body).not.toContain('/console/assets/');
  });

  it('serves the hashed files for a year and nothing else from the folder', async () => {
    const js = await app.inject({ method: 'GET', url: `/console/assets/${manifest.js}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(
      js.rawPayload.equals(
        readFileSync(new URL(`../../../packages/console/dist/${manifest.js}`, import.meta.url)),
      ),
    ).toBe(true);
    const css = await app.inject({ method: 'GET', url: `/console/assets/${manifest.css}` });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const url of [
      '/console/assets/manifest.json',
      '/console/assets/console.000000000000.js',
      '/console/assets/..%2Fpackage.json',
      '/console/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    ]) {
      const refused = await app.inject({ method: 'GET', url });
      expect(refused.statusCode, url).toBe(404);
      expect(refused.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    }
  });
});
