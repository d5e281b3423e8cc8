/**
 * `GET /metrics` in Prometheus text for any Loom server, and, where asked, a count of
 * answered requests by route template and status (bounded labels: the template, never the
 * raw URL a client chose). The model server brings its own registry and skips the
 * per-request count, which would cost more than its inference.
 *
 * Under `--workers N` a scrape answers for every worker, whichever takes it: `registry` holds
 * what this process counted and is summed over the workers by the primary (cluster-metrics.ts);
 * `shared` holds figures every process reads alike from the stores (the monitoring gauges),
 * answered by the worker that took the scrape, since a sum would multiply them by N.
 *
 * Usage: `await app.register(metricsPlugin, { registry, shared, countRequests: true })`
 */
import cluster from 'node:cluster';
import fp from 'fastify-plugin';
import { Counter, Registry } from 'prom-client';
import { isLoomError } from '../core/errors.js';
import { METRICS_RETRY_AFTER_SECONDS, clusterMetricsText, shareMetrics } from './cluster-metrics.js';

export interface MetricsOptions {
  /** What this process counts (requests, latencies); under `--workers N`, summed over every worker. Default a new registry. */
  registry?: Registry;
  /** Figures of state every process sees alike, computed when scraped: answered by this process, never summed. */
  shared?: Registry;
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
    // Registered while the app is built, before it listens: the primary asks only workers that listen.
    if (cluster.isWorker) {
      const unshare = shareMetrics(registry);
      app.addHook('onClose', async () => unshare());
    }
    app.get('/metrics', { schema: { summary: 'Prometheus metrics (no credentials needed)', tags: ['meta'], documented: { responseType: 'text/plain' } } }, async (_request, reply) => {
      let own: string;
      try {
        own = cluster.isWorker ? await clusterMetricsText() : await registry.metrics();
      } catch (error) {
        if (isLoomError(error) && error.code === 'UNAVAILABLE') reply.header('retry-after', String(METRICS_RETRY_AFTER_SECONDS));
        throw error;
      }
      const shared = options.shared ? await options.shared.metrics() : '';
      return reply.type(registry.contentType).send(own + shared);
    });
  },
  { name: 'loom-metrics', fastify: '5.x' },
);
