import { describe, expect, it } from 'vitest';
import { currentOpenApiDocument } from '../src/index';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** Every `$ref` anywhere in `value`. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, found);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value))
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refs(inner, found);
  return found;
}

describe('/openapi.json answers', () => {
  it('gives every 2xx JSON answer of every API route a schema, its shared shapes as components', async () => {
    const document = (await currentOpenApiDocument()) as unknown as Document;
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        name: `${method} ${path}`,
        operation,
      })),
    );
    expect(operations.length).toBeGreaterThan(40);
    const withoutSchema: string[] = [];
    let checked = 0;
    for (const { name, operation } of operations)
      for (const [status, response] of Object.entries(operation.responses)) {
        const json = response.content?.['application/json'];
        if (!status.startsWith('2') || !json) continue;
        checked += 1;
        if (Object.keys(json.schema).length === 0) withoutSchema.push(`${name} ${status}`);
      }
    expect(withoutSchema).toEqual([]);
    expect(checked).toBeGreaterThan(35);

    const components = document.components.schemas;
    for (const id of ['Agent', 'Template', 'Group', 'ConversationSummary', 'Transcript', 'Error'])
      expect(components[id], id).toMatchObject({ type: 'object' });
    const dangling = refs(document).filter(
      (ref) => !(ref.replace('#/components/schemas/', '') in components),
    );
    expect(dangling).toEqual([]);
    // An answer in the list refers to its shape rather than repeating it.
    const agents = document.paths['/v1/admin/agents']?.['get']?.responses['200']?.content?.[
      'application/json'
    ]?.schema as { properties: { agents: { items: unknown } } };
    expect(agents.properties.agents.items).toEqual({ $ref: '#/components/schemas/AgentListItem' });
  });
});
