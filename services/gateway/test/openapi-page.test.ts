import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

let gateway: GatewayUnderTest;
beforeAll(async () => {
  gateway = await startGatewayUnderTest({ namespace: `openapi-page-${process.pid}` });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
});

it('shows every operation of /openapi.json on its reference page, under a CSP that allows only its own style', async () => {
  const document = (await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<string, Record<string, { summary: string; 'x-permission'?: string }>>;
    components: { schemas: Record<string, unknown> };
  }>();
  const response = await gateway.app.inject({ method: 'GET', url: '/openapi' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  const page = response.body;

  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  expect(operations.length).toBeGreaterThan(40);
  for (const { path, method, op } of operations) {
    expect(page, `${method} ${path}`).toContain(`id="${method}-${path}"`);
    if (op['x-permission']) expect(page).toContain(`permission <code>${op['x-permission']}</code>`);
  }
  // The shapes answers refer to have their own sections.
  expect(Object.keys(document.components.schemas).length).toBeGreaterThan(20);
  for (const name of Object.keys(document.components.schemas))
    expect(page, name).toContain(`id="schema-${name}"`);
  expect(page).toContain('#/components/schemas/AgentListItem');
  // Schemas are shown escaped, never as markup.
  expect(page).not.toMatch(
    /<(?!\/?(?:!doctype|html|head|meta|title|style|body|main|h[123]|p|a|small|section|span|code|pre|table|tr|th|td)\b)[a-z]/i,
  );

  // The inline style is the one thing the policy lets in, by its hash.
  const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
  const hash = createHash('sha256').update(style).digest('base64');
  expect(response.headers['content-security-policy']).toBe(
    `default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
});
