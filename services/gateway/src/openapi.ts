import type { Permission } from '@topicdesk/core';
import type { RouteOptions } from 'fastify';
import { z } from 'zod';

/**
 * What /openapi.json says about a route, declared in the route's `config.doc` with the very zod
 * schemas its handler parses the request with: the document cannot say one thing while the
 * route checks another.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: 'visitor' | 'admin' | 'console' | 'channel';
  /** How the caller proves who they are. */
  auth: 'none' | 'visitor' | 'admin' | 'session' | 'signed-link' | 'channel';
  /** Path parameters: an object schema keyed by the `:name`s of the URL. */
  params?: z.ZodObject;
  /** Query parameters: an object schema. */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The body's media type when not JSON. */
  bodyType?: string;
  /** Answers besides the error answers, by status: their description and media type. */
  responses?: Record<number, string | { description: string; type: string }>;
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
  return url.startsWith('/v1/') || url === '/console/sign-in';
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
  channel: [{ channelSecret: [] }],
};

const ERRORS: Record<string, string> = {
  '400': 'INVALID_REQUEST, INVALID_JSON and the other request errors (docs/errors.md)',
  '401': 'TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, SESSION_INVALID',
  '403': 'FORBIDDEN, FORBIDDEN_ROLE, CSRF_FAILED',
};

/** The OpenAPI 3.1 document of `routes` (those with a `doc`). */
export function openApiDocument(routes: readonly DocumentedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { doc } = route;
    if (!doc || !isApiUrl(route.url)) continue;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, answer] of Object.entries(doc.responses ?? { 200: 'OK' })) {
      const { description, type } =
        typeof answer === 'string' ? { description: answer, type: 'application/json' } : answer;
      responses[status] = {
        description,
        ...(status === '204' || status === '303' || status === '101'
          ? {}
          : { content: { [type]: { schema: {} } } }),
      };
    }
    for (const [status, description] of Object.entries(ERRORS)) {
      if (status === '401' && doc.auth === 'none') continue;
      responses[status] ??= {
        description,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    (paths[path] ??= {})[route.method] = {
      operationId: `${route.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
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
        'The visitor API, the admin API and console sign-in. Errors are { error: { code, message } } with the stable codes of docs/errors.md; roles and permissions: docs/console.md.',
    },
    paths,
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: { type: 'object' },
              },
            },
          },
        },
      },
      securitySchemes: {
        serviceToken: { type: 'http', scheme: 'bearer', description: 'SERVICE_TOKEN (an owner)' },
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
