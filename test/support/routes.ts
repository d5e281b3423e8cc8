/**
 * The routes an app serves, read from Fastify's own route tree (`printRoutes`), so tests that
 * cover "every route" (the fuzz test, the OpenAPI check) see a route added later too.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteTemplate {
  method: string;
  /** Fastify's template: `/v2/models/:name/infer`, `/v1/models/*`. */
  url: string;
}

/** The routes of an app, from Fastify's printed route tree (HEAD is skipped: its answers carry no body to read). */
export async function routesOf(app: FastifyInstance): Promise<RouteTemplate[]> {
  await app.ready();
  const routes: RouteTemplate[] = [];
  const stack: string[] = [];
  // The radix tree form: each line's segment continues its parent's (the flat form drops the prefix of a wildcard route).
  for (const line of app.printRoutes().split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const parent = stack[depth - 1] ?? '';
    const segment = match[2]!;
    const url = parent + segment;
    stack[depth] = url;
    stack.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) routes.push({ method, url });
  }
  return routes;
}
