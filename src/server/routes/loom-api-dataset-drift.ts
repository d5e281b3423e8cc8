/**
 * `GET /api/loom/datasets/:version/drift?against=<version>&split=<split>`: the drift of each feature
 * between two dataset versions, measured by validation's comparators on the recorded statistics
 * (`queries/dataset-drift.ts`). The dashboard's dataset page shows it beside both versions' statistics.
 *
 * Usage: `await app.register(datasetDriftRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseRequest } from '../../http/validation.js';
import { datasetVersionDrift } from '../../queries/dataset-drift.js';
import type { PlatformRouteOptions } from '../server.js';

const versionHash = z.string().regex(/^[0-9a-f]{4,64}$/, 'must be (a prefix of) a dataset version hash');
const driftParams = z.object({ version: versionHash });
const driftQuery = z.object({ against: versionHash, split: z.string().regex(/^[\w-]+$/, 'must be a split name').default('train') });

export const datasetDriftRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (app, { db, artifacts }) => {
  app.get('/datasets/:version/drift', async (request) => {
    const { version } = parseRequest(driftParams, request.params, { part: 'path' });
    const query = parseRequest(driftQuery, request.query, { part: 'query' });
    return datasetVersionDrift(db, artifacts, version, query.against, query.split);
  });
};
