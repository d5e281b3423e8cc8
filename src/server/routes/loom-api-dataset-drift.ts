/**
 * `GET /api/loom/datasets/:version/drift?against=<version>&split=<split>`: the drift of each feature
 * between two dataset versions, measured by validation's comparators on the recorded statistics
 * (`queries/dataset-drift.ts`). The dashboard's dataset page shows it beside both versions' statistics.
 *
 * Usage: `await app.register(datasetDriftRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from '../../http/validation.js';
import { datasetVersionDrift } from '../../queries/dataset-drift.js';
import type { PlatformRouteOptions } from '../server.js';

const versionHash = z.string().regex(/^[0-9a-f]{4,64}$/, 'must be (a prefix of) a dataset version hash');
const driftParams = z.object({ version: versionHash });
const driftQuery = z.object({ against: versionHash, split: z.string().regex(/^[\w-]+$/, 'must be a split name').default('train') });

export const datasetDriftRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (scope, { db, artifacts }) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const schema = { summary: 'The drift of each feature between two dataset versions', tags: ['loom'], params: driftParams, querystring: driftQuery };
  app.get('/datasets/:version/drift', { schema }, async (request) => {
    const { version } = request.params;
    const query = request.query;
    return datasetVersionDrift(db, artifacts, version, query.against, query.split);
  });
};
