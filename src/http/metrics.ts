/**
 * `GET /metrics` in Prometheus text for any Loom server, and, where asked, a count of
 * answered requests by route template and status (bounded labels: the template, never the
 * raw URL a client chose). The model server brings its own exposition (aggregated across
 * workers) and skips the per-request count, which would cost more than its inference.
 *
 * Usage: `await app.register(metricsPlugin, { registry, countRequests: true })`
 */
import fp from 'fastify-plugin';
import { Counter, Registry } from 'prom-client';

export interface MetricsOptions {
  /** Where the metrics live; default a new registry. */
  registry?: Registry;
  /** The exposition to answer with; default the registry's own. */
  text?(): Promise<{ contentType: string; body: string }>;
  /** Count every answered request as `loom_http_requests_total{method, route, status}`. */
  countRequests?: boolean;
}

/** `/metrics` (and the request counter) on the app it is registered on. */
export const metricsPlugin = fp<MetricsOptions>(
  async (app, options) => {
    const registry = options.registry ?? new Registry();
    if (options.countRequests) {
      const requests = new Counter({
        name: 'loom_http_requests_total',
        help: 'HTTP requests answered, by method, route template and status',
        labelNames: ['method', 'route', 'status'],
        registers: [registry],
      });
      app.addHook('onResponse', async (request, reply) => {
        requests.inc({ method: request.method, route: request.routeOptions.url ?? '(no route)', status: String(reply.statusCode) });
      });
    }
    const text = options.text ?? (async () => ({ contentType: registry.contentType, body: await registry.metrics() }));
    app.get('/metrics', { schema: { summary: 'Prometheus metrics (no credentials needed)', tags: ['meta'], documented: { responseType: 'text/plain' } } }, async (_request, reply) => {
      const { contentType, body } = await text();
      return reply.type(contentType).send(body);
    });
  },
  { name: 'loom-metrics', fastify: '5.x' },
);
