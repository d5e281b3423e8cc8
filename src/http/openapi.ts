/**
 * `GET /openapi.json`: an OpenAPI 3.1 document of every route an app serves, built from the
 * zod schemas the routes declare in Fastify's `schema` option (the ones the zod validator
 * compiler checks requests with, `validation.ts`), so the document cannot drift from what the
 * server accepts. An `onRoute` hook collects the routes as they are added; a route without a
 * `schema` is left out, which `test/e2e/openapi.test.ts` turns into a failure. Parts a handler
 * checks by hand (hot inference paths, protocol forms) are declared under `schema.documented`:
 * documented, not validated twice. The document is open like the probes: it holds no data.
 *
 * Usage: `await app.register(openApiPlugin, { title: 'Loom platform API' })` before any route (done by `createHttpApp`).
 */
import type { FastifySchema, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';

declare module 'fastify' {
  interface FastifySchema {
    /** One line on what the route does (OpenAPI `summary`). */
    summary?: string;
    /** More on the route: accepted forms, rules (OpenAPI `description`). */
    description?: string;
    /** The surface the route belongs to (OpenAPI `tags`). */
    tags?: readonly string[];
    /** Left out of the document on purpose (the dashboard's static files). */
    hide?: boolean;
    /** Parts the handler checks itself, for speed or for a protocol's many forms: documented, never validated by Fastify. */
    documented?: DocumentedParts;
  }
}

/** Request and answer shapes a route documents without Fastify validating them. */
export interface DocumentedParts {
  body?: z.ZodType;
  querystring?: z.ZodType;
  /** The JSON answer of a 200. */
  response?: z.ZodType;
  /** Content types the body may come in besides JSON (`text/csv`, `application/octet-stream`). */
  bodyTypes?: readonly string[];
  /** A non-JSON answer (`text/plain` for Prometheus, `text/html`). */
  responseType?: string;
}

export interface OpenApiOptions {
  title: string;
  version?: string;
  description?: string;
}

/** A route as the document sees it. */
export interface DocumentedRoute {
  method: string;
  url: string;
  schema?: FastifySchema;
}

/** The path where every Loom server answers its document. */
export const OPENAPI_PATH = '/openapi.json';

const DOCUMENT_VERSION = '0.1.0';

/** JSON Schema of a zod schema as a client sends it (defaults optional, transforms' inputs). */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;
  return rest;
}

const zodOf = (value: unknown): z.ZodType | undefined => (value instanceof z.ZodType ? value : undefined);

/** Fastify's `/a/:b/*` as OpenAPI's `/a/{b}/{path}`, with the parameter names. */
export function openApiPath(url: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = url
    .split('/')
    .map((segment) => {
      if (segment === '*') {
        names.push('path');
        return '{path}';
      }
      const param = /^:([A-Za-z_][\w-]*)(\(.*\))?$/.exec(segment);
      if (!param) return segment.replace(/::/g, ':');
      names.push(param[1]!);
      return `{${param[1]}}`;
    })
    .join('/');
  return { path, names };
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: unknown;
  description?: string;
}

/** The properties of an object schema as parameters of one place. */
function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query', names: readonly string[] = []): Parameter[] {
  const json = schema ? jsonSchemaOf(schema) : {};
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required ?? []) as string[]);
  const listed = where === 'path' ? names : Object.keys(properties);
  return listed.map((name) => {
    const property = properties[name] ?? { type: 'string' };
    const { description, ...rest } = property;
    return { name, in: where, required: where === 'path' || required.has(name), schema: rest, ...(typeof description === 'string' ? { description } : {}) };
  });
}

function operationOf(method: string, route: DocumentedRoute, names: string[]) {
  const schema = route.schema!;
  const documented = schema.documented ?? {};
  const body = zodOf(schema.body) ?? documented.body;
  const query = zodOf(schema.querystring) ?? documented.querystring;
  const params = [...parametersOf(zodOf(schema.params), 'path', names), ...parametersOf(query, 'query')];
  const content = (types: readonly string[], json: Record<string, unknown>) => Object.fromEntries(types.map((type) => [type, type.includes('json') ? { schema: json } : {}]));
  const ok = documented.response
    ? { description: 'Success', content: { 'application/json': { schema: jsonSchemaOf(documented.response) } } }
    : documented.responseType
      ? { description: 'Success', content: { [documented.responseType]: {} } }
      : { description: 'Success' };
  return {
    operationId: `${method}${route.url.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    ...(schema.summary ? { summary: schema.summary } : {}),
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.tags ? { tags: [...schema.tags] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: true, content: content(['application/json', ...(documented.bodyTypes ?? [])], jsonSchemaOf(body)) } } : {}),
    responses: { '200': ok, default: { description: "An error in the surface's format (LoomError code, message, fix)" } },
  };
}

/** The OpenAPI 3.1 document of the routes given; routes without a schema, or hidden, are left out. */
export function buildOpenApiDocument(routes: readonly DocumentedRoute[], options: OpenApiOptions) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (!route.schema || route.schema.hide || route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    const { path, names } = openApiPath(route.url);
    const method = route.method.toLowerCase();
    (paths[path] ??= {})[method] = operationOf(method, route, names);
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version ?? DOCUMENT_VERSION, ...(options.description ? { description: options.description } : {}) },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Loom API token or an OIDC JWT (docs/security.md); an open loopback server needs none' } },
    },
    security: [{ bearer: [] }, {}],
    paths,
  };
}

/** Collects the app's routes and answers `GET /openapi.json`. */
export const openApiPlugin = fp<OpenApiOptions>(
  async (app, options) => {
    const routes: DocumentedRoute[] = [];
    app.addHook('onRoute', (route) => {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethods[];
      for (const method of methods) routes.push({ method: method.toUpperCase(), url: route.url, schema: route.schema });
    });
    let document: ReturnType<typeof buildOpenApiDocument> | undefined;
    app.get(OPENAPI_PATH, { schema: { summary: 'This OpenAPI document', tags: ['meta'] } }, async () => (document ??= buildOpenApiDocument(routes, options)));
  },
  { name: 'loom-openapi', fastify: '5.x' },
);
