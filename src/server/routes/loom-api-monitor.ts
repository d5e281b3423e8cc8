/**
 * The monitoring read API under `/api/loom/monitoring/`: a served model's drift per feature and
 * online quality (estimated and measured) over time, and the alerts that fired with the actions
 * they took, read through the query layer (`queries/monitoring.ts`) from the history `loom
 * monitor` and `loom monitor alerts check` record. The dashboard's Monitoring page reads it.
 *
 * Usage: `await app.register(loomMonitorRoutes, { ...routeOptions, history, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { ZodTypeProvider } from '../../http/validation.js';
import type { MonitorHistoryStore } from '../../monitor/history-store.js';
import { monitoringView } from '../../queries/monitoring.js';
import type { PlatformRouteOptions } from '../server.js';

export interface MonitorRouteOptions extends PlatformRouteOptions {
  /** The monitoring history; a server started without it answers FAILED_PRECONDITION. */
  history?: MonitorHistoryStore;
}

const nameParams = z.object({ name: z.string().min(1) });
const epochMs = z.coerce.number().int().min(0);
const monitoringQuery = z
  .object({
    version: z.coerce.number().int().min(1).optional(),
    window: z.string().regex(/^(hourly|daily|requests:\d+)$/, "must be 'hourly', 'daily' or 'requests:N'").optional(),
    from: epochMs.optional(),
    to: epochMs.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { message: 'from must be before to', path: ['from'] });

export const loomMonitorRoutes: FastifyPluginAsync<MonitorRouteOptions> = async (scope, { db, history }) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const schema = { summary: "A served model's drift and online quality over time, and the alerts that fired", tags: ['loom', 'monitoring'], params: nameParams, querystring: monitoringQuery };
  app.get('/monitoring/:name', { schema }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    if (!history) {
      throw new LoomError('FAILED_PRECONDITION', 'this server was started without the monitoring history', { fix: 'start it with `loom server`, which reads the project’s monitoring history' });
    }
    if (!(await db.registry.getRegisteredModel(name))) throw new LoomError('NOT_FOUND', `registered model ${JSON.stringify(name)} not found`, { field: 'name' });
    return monitoringView({ history, metadata: db.metadata }, name, query);
  });
};
