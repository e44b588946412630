import type { Permission } from '@topicdesk/core';
import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import { answerComponents } from './answers';

/**
 * What /openapi.json says about a route, declared in the route's `config.doc` with the very zod
 * schemas its handler parses the request with: the document cannot say one thing while the
 * route checks another.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: 'visitor' | 'admin' | 'console' | 'platform' | 'channel';
  /** How the caller proves who they are. */
  auth: 'none' | 'visitor' | 'admin' | 'session' | 'signed-link' | 'platform' | 'channel';
  /** Path parameters: an object schema keyed by the `:name`s of the URL. */
  params?: z.ZodObject;
  /** Query parameters: an object schema. */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body's media type when not JSON. */
  bodyType?: string;
  /**
   * Answers besides the error answers, by status: their description and media type (with an
   * answer schema for the same status, the answer is JSON or this type).
   */
  responses?: Record<number, string | { description: string; type: string }>;
  /**
   * The JSON body of each answer besides the error answers, by status (answers.ts): shown in
   * the document and, with CHECK_RESPONSE_SCHEMAS, checked on every answer (answer-check.ts).
   */
  answers?: Partial<Record<number, z.ZodType>>;
}

/** A route as fastify registered it: what the document is made of. */
export interface DocumentedRoute {
  method: string;
  url: string;
  doc: RouteDoc | undefined;
  permission: Permission | undefined;
}

/** Routes of the API surface: the document must cover each (the drift test checks). */
export function isApiUrl(url: string): boolean {
  return (
    url.startsWith('/v1/') ||
    url === '/console/sign-in' ||
    url === '/console/sign-in/mini-app' ||
    url === '/console/sign-in/platform' ||
    url === '/console/sign-out/platform'
  );
}

/** Collects the routes as they are registered (an onRoute hook), HEAD twins left out. */
export function routeCollector(): {
  routes: DocumentedRoute[];
  onRoute: (route: RouteOptions) => void;
} {
  const routes: DocumentedRoute[] = [];
  return {
    routes,
    onRoute(route) {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        routes.push({
          method: method.toLowerCase(),
          url: route.url,
          doc: route.config?.doc,
          permission: route.config?.permission,
        });
      }
    },
  };
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // `input`: what a client sends (before transforms and defaults); refinements have no
  // JSON Schema equivalent and are described by the error answer instead.
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  return rest;
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (object.required ?? []).includes(name),
    ...(typeof property['description'] === 'string'
      ? { description: property['description'] }
      : {}),
    schema: property,
  }));
}

const SECURITY: Record<RouteDoc['auth'], Array<Record<string, string[]>>> = {
  none: [],
  visitor: [{ visitorToken: [] }],
  admin: [{ serviceToken: [] }, { session: [], csrf: [] }],
  session: [{ session: [], csrf: [] }],
  'signed-link': [],
  platform: [{ platformToken: [] }],
  channel: [{ channelSecret: [] }],
};

const ERRORS: Record<string, string> = {
  '400': 'INVALID_REQUEST, INVALID_JSON and the other request errors (docs/errors.md)',
  '401': 'TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, SESSION_INVALID',
  '403': 'FORBIDDEN, FORBIDDEN_ROLE, CSRF_FAILED',
};

const COMPONENT = '#/components/schemas/';

/**
 * The answers' JSON Schemas (`output`: what the gateway sends), in one conversion so that the
 * shapes of answers.ts are `$ref`s to `components.schemas` wherever they appear: `schemas` by
 * the key given to each route answer, `components` by the shapes' ids.
 */
function answerSchemas(answers: ReadonlyMap<string, z.ZodType>) {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of answerComponents) registry.add(schema, { id });
  // An answer of its own is converted once, under the key of the first route that gives it.
  const firstKey = new Map<z.ZodType, string>();
  for (const [key, schema] of answers)
    if (!registry.has(schema)) {
      registry.add(schema, { id: key });
      firstKey.set(schema, key);
    }
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `${COMPONENT}${id}`,
    // An instant's regular expression says no more than its `format: date-time`.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
  const bare = (id: string) => {
    const { $schema: _s, $id: _i, ...rest } = schemas[id] ?? {};
    return rest;
  };
  const components: Record<string, unknown> = {};
  for (const id of answerComponents.values()) components[id] = bare(id);
  const byKey = new Map<string, unknown>();
  for (const [key, schema] of answers) {
    const id = answerComponents.get(schema);
    byKey.set(
      key,
      id === undefined ? bare(firstKey.get(schema) ?? key) : { $ref: `${COMPONENT}${id}` },
    );
  }
  return { components, byKey };
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const operationId = (method: string, path: string) =>
  `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`;

/** The OpenAPI 3.1 document of `routes` (those with a `doc`). */
export function openApiDocument(routes: readonly DocumentedRoute[], version: string) {
  const documented = routes.filter(
    (route): route is DocumentedRoute & { doc: RouteDoc } =>
      route.doc !== undefined && isApiUrl(route.url),
  );
  const answers = new Map<string, z.ZodType>();
  for (const route of documented)
    for (const [status, schema] of Object.entries(route.doc.answers ?? {}))
      if (schema)
        answers.set(`${operationId(route.method, openApiPath(route.url))}.${status}`, schema);
  const { components, byKey } = answerSchemas(answers);

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of documented) {
    const { doc } = route;
    const path = openApiPath(route.url);
    const id = operationId(route.method, path);
    const described: Record<string, string | { description: string; type: string }> = {
      ...(doc.responses ?? (doc.answers ? {} : { 200: 'OK' })),
    };
    for (const status of Object.keys(doc.answers ?? {}))
      described[status] ??= status === '201' ? 'Created' : 'OK';
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(described)) {
      const { description, type } =
        typeof answer === 'string' ? { description: answer, type: 'application/json' } : answer;
      // A status with an answer schema and another media type answers either (JSON or CSV).
      const schema = byKey.get(`${id}.${status}`);
      const content =
        type === 'application/json'
          ? { [type]: { schema: schema ?? {} } }
          : {
              ...(schema ? { 'application/json': { schema } } : {}),
              [type]: { schema: type.startsWith('text/') ? { type: 'string' } : {} },
            };
      responses[status] = {
        description,
        ...(status === '204' || status === '303' || status === '101' ? {} : { content }),
      };
    }
    for (const [status, description] of Object.entries(ERRORS)) {
      if (status === '401' && doc.auth === 'none') continue;
      responses[status] ??= {
        description,
        content: { 'application/json': { schema: { $ref: `${COMPONENT}Error` } } },
      };
    }
    (paths[path] ??= {})[route.method] = {
      operationId: id,
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      tags: [doc.tag],
      ...(route.permission ? { 'x-permission': route.permission } : {}),
      security: SECURITY[doc.auth],
      parameters: [...parameters(doc.params, 'path'), ...parameters(doc.query, 'query')],
      ...(doc.body
        ? {
            requestBody: {
              required: true,
              content: { [doc.bodyType ?? 'application/json']: { schema: jsonSchema(doc.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Topicdesk gateway',
      version,
      description:
        'The visitor API, the admin API, console sign-in and the platform API (tenants). Errors are { error: { code, message } } with the stable codes of docs/errors.md; roles and permissions: docs/console.md.',
    },
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        serviceToken: { type: 'http', scheme: 'bearer', description: 'SERVICE_TOKEN (an owner)' },
        platformToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'PLATFORM_TOKEN (the platform API; unset: 404 PLATFORM_DISABLED)',
        },
        visitorToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        channelSecret: {
          type: 'http',
          scheme: 'bearer',
          description: 'a bot channel secret (POST /v1/admin/bot-channels), for @topicdesk/grammy',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'topicdesk_session',
          description: '__Host-topicdesk_session over https; set by POST /console/sign-in',
        },
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: 'csrfToken of GET /v1/console/session; needed with the cookie on changes',
        },
      },
    },
  };
}
