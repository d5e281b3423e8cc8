/**
 * Monitoring on the Loom API, under `/api/loom/models/:name/monitor/`: the drift and online-quality
 * figures `loom monitor` recorded (by version, window kind and window-start range), and the status
 * of the latest recorded window. Reads only, through the query layer (queries/monitor-history.ts);
 * any authenticated principal may read, as on the neighbouring Loom API routes.
 *
 * Usage: `await app.register(loomMonitorRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseRequest } from '../../http/validation.js';
import type { MonitorHistoryStore } from '../../monitor/history-store.js';
import { driftHistory, monitorStatus, qualityHistory, type MonitorQueryStores } from '../../queries/monitor-history.js';
import type { PlatformRouteOptions } from '../server.js';

const nameParams = z.object({ name: z.string().min(1) });
const epochMs = z.coerce.number().int().min(0).max(8.64e15);
const statusQuery = z.object({
  version: z.coerce.number().int().min(1).optional(),
  window_kind: z.string().regex(/^(hourly|daily|requests:\d+)$/, 'must be hourly, daily or requests:N').optional(),
});
const historyQuery = statusQuery
  .extend({ since: epochMs.optional(), until: epochMs.optional() })
  .refine((q) => q.since === undefined || q.until === undefined || q.since < q.until, { message: 'since must be before until', path: ['since'] });

/** The Loom API's monitoring routes; `monitorHistory` is the project's store (absent: every route says so). */
export const loomMonitorRoutes: FastifyPluginAsync<PlatformRouteOptions & { monitorHistory?: MonitorHistoryStore }> = async (app, options) => {
  const stores = (): MonitorQueryStores => {
    if (!options.monitorHistory) {
      throw new LoomError('FAILED_PRECONDITION', 'this server was started without the monitoring history', { fix: 'start the API with `loom server`, which reads the project’s monitoring history' });
    }
    return { registry: options.db.registry, monitorHistory: options.monitorHistory };
  };
  const read = (request: { params: unknown; query: unknown }) => {
    const { name } = parseRequest(nameParams, request.params, { part: 'path' });
    const query = parseRequest(historyQuery, request.query, { part: 'query' });
    return { model: name, version: query.version, windowKind: query.window_kind, from: query.since, to: query.until };
  };

  app.get('/models/:name/monitor/drift', async (request) => ({ rows: await driftHistory(stores(), read(request)) }));
  app.get('/models/:name/monitor/quality', async (request) => ({ rows: await qualityHistory(stores(), read(request)) }));
  app.get('/models/:name/monitor/status', async (request) => {
    const { name } = parseRequest(nameParams, request.params, { part: 'path' });
    const query = parseRequest(statusQuery, request.query, { part: 'query' });
    return monitorStatus(stores(), { model: name, version: query.version, windowKind: query.window_kind });
  });
};
