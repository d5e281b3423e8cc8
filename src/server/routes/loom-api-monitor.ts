/**
 * The monitoring read API under `/api/loom/monitoring/`: a served model's drift per feature and
 * online quality (estimated and measured) over time, and the alerts that fired with the actions
 * they took, read through the query layer (`queries/monitoring.ts`) from the history `loom
 * monitor` and `loom monitor alerts check` record; the online quality per slice, computed on
 * request from the prediction log and the labels (`queries/monitoring-slices.ts`); and how a
 * deployment is doing: its traffic, errors and latency per version and role over time
 * (`queries/deployment-traffic.ts`), its shadow against the served answers
 * (`queries/shadow-results.ts`) and the canary decisions taken on it
 * (`queries/canary-decisions.ts`). The dashboard's Monitoring and Deployments pages read them.
 *
 * Usage: `await app.register(loomMonitorRoutes, { ...routeOptions, history, location, labels, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { ZodTypeProvider } from '../../http/validation.js';
import type { MonitorHistoryStore } from '../../monitor/history-store.js';
import type { FitStore } from '../../monitor/fit-store.js';
import type { LabelStore } from '../../monitor/label-store.js';
import type { PredictionLogLocation } from '../../monitor/prediction-log-reader.js';
import type { WindowSpec } from '../../monitor/windows.js';
import { listCanaryDecisions } from '../../queries/canary-decisions.js';
import { deploymentTraffic, TRAFFIC_WINDOWS } from '../../queries/deployment-traffic.js';
import { monitoringView } from '../../queries/monitoring.js';
import { shadowResults } from '../../queries/shadow-results.js';
import { sliceQualityView } from '../../queries/monitoring-slices.js';
import type { PlatformRouteOptions } from '../server.js';

export interface MonitorRouteOptions extends PlatformRouteOptions {
  /** The monitoring history; a server started without it answers FAILED_PRECONDITION. */
  history?: MonitorHistoryStore;
  /** The prediction log, for traffic and per-slice quality; without it those routes answer FAILED_PRECONDITION. */
  location?: PredictionLogLocation;
  /** The labels that arrived, for per-slice quality; without it that route answers FAILED_PRECONDITION. */
  labels?: LabelStore;
  /** Where served versions' fits are kept across restarts; without it, for this process only. */
  fits?: FitStore;
}

const nameParams = z.object({ name: z.string().min(1) });
const epochMs = z.coerce.number().int().min(0);
const windowName = z.string().regex(/^(hourly|daily|requests:[1-9]\d*)$/, "must be 'hourly', 'daily' or 'requests:N'");
const range = { from: epochMs.optional(), to: epochMs.optional() };
const ordered = (q: { from?: number; to?: number }) => q.from === undefined || q.to === undefined || q.from < q.to;
const orderedMessage = { message: 'from must be before to', path: ['from'] };
const monitoringQuery = z.object({ version: z.coerce.number().int().min(1).optional(), window: windowName.optional(), ...range }).refine(ordered, orderedMessage);
const slicesQuery = z.object({ version: z.coerce.number().int().min(1), window: windowName.default('daily'), ...range }).refine(ordered, orderedMessage);
const trafficQuery = z.object({ window: z.enum(TRAFFIC_WINDOWS).default('daily'), ...range }).refine(ordered, orderedMessage);

/** A window name the schema accepted, as the monitor's windows take it. */
function windowSpecOf(name: string): WindowSpec {
  return name === 'hourly' || name === 'daily' ? { kind: name } : { kind: 'requests', size: Number(name.slice('requests:'.length)) };
}

export const loomMonitorRoutes: FastifyPluginAsync<MonitorRouteOptions> = async (scope, { db, artifacts, history, location, labels, fits }) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const mustExist = async (name: string) => {
    if (!(await db.registry.getRegisteredModel(name))) throw new LoomError('NOT_FOUND', `registered model ${JSON.stringify(name)} not found`, { field: 'name' });
  };
  const logOf = (): PredictionLogLocation => {
    if (!location) throw new LoomError('FAILED_PRECONDITION', 'this server was started without the prediction log', { fix: 'start it with `loom server`, which reads the project’s prediction log' });
    return location;
  };
  const tags = ['loom', 'monitoring'];
  const schema = { summary: "A served model's drift and online quality over time, and the alerts that fired", tags, params: nameParams, querystring: monitoringQuery };
  app.get('/monitoring/:name', { schema }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    if (!history) {
      throw new LoomError('FAILED_PRECONDITION', 'this server was started without the monitoring history', { fix: 'start it with `loom server`, which reads the project’s monitoring history' });
    }
    await mustExist(name);
    return monitoringView({ history, metadata: db.metadata }, name, query);
  });
  app.get('/monitoring/:name/slices', { schema: { summary: "A served version's measured online quality per slice and window, computed from the log and the labels", tags, params: nameParams, querystring: slicesQuery } }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    await mustExist(name);
    if (!labels) throw new LoomError('FAILED_PRECONDITION', 'this server was started without the label store', { fix: 'start it with `loom server`, which reads the project’s labels' });
    return sliceQualityView({ registry: db.registry, metadata: db.metadata, artifacts, labels, monitorFits: fits }, logOf(), { model: name, version: query.version, window: windowSpecOf(query.window), from: query.from, to: query.to });
  });
  app.get('/deployments/:name/traffic', { schema: { summary: "A served model's requests, errors and latency per version, role and window, from the prediction log", tags, params: nameParams, querystring: trafficQuery } }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    await mustExist(name);
    return deploymentTraffic(logOf(), { model: name, window: query.window, from: query.from, to: query.to });
  });
  app.get('/deployments/:name/shadow', { schema: { summary: "A shadow's answers against the served ones over the same requests, per window: agreement or difference, and latency", tags, params: nameParams, querystring: trafficQuery } }, async (request) => {
    const { name } = request.params;
    const query = request.query;
    await mustExist(name);
    return shadowResults(logOf(), { model: name, window: query.window, from: query.from, to: query.to });
  });
  app.get('/deployments/:name/canary-decisions', { schema: { summary: "A model's canary decisions, newest first: both sides' figures and the outcome", tags, params: nameParams } }, async (request) => {
    const { name } = request.params;
    await mustExist(name);
    return { decisions: await listCanaryDecisions({ metadata: db.metadata, artifacts }, name) };
  });
};
