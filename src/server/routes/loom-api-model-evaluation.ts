/**
 * `GET /api/loom/models/:name/versions/:version/evaluation[?evaluation=<id>]`: the recorded
 * evaluations of a model version and one in full (overall metrics with intervals, slices with
 * intervals, fairness, thresholds, blessing, model card), read through `queries/model-evaluation.ts`.
 * The dashboard's model page shows it. And lineage the other way, for the dataset page:
 * `GET /api/loom/datasets/:version/models`, the model versions made from a dataset version.
 *
 * Usage: `await app.register(modelEvaluationRoutes, { ...routeOptions, prefix: LOOM_API_PREFIX })` (done by `buildPlatformApp`).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ZodTypeProvider } from '../../http/validation.js';
import { datasetVersionModels } from '../../queries/dataset-models.js';
import { modelEvaluation } from '../../queries/model-evaluation.js';
import type { PlatformRouteOptions } from '../server.js';

const evaluationParams = z.object({ name: z.string().min(1), version: z.coerce.number().int().min(1) });
const evaluationQuery = z.object({ evaluation: z.coerce.number().int().min(1).optional() });
const datasetParams = z.object({ version: z.string().regex(/^[0-9a-f]{4,64}$/, 'must be (a prefix of) a dataset version hash') });

export const modelEvaluationRoutes: FastifyPluginAsync<PlatformRouteOptions> = async (scope, { db, artifacts }) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const schema = { summary: "A model version's recorded evaluations, one in full: metrics and slices with intervals, fairness, blessing, model card", tags: ['loom'], params: evaluationParams, querystring: evaluationQuery };
  app.get('/models/:name/versions/:version/evaluation', { schema }, async (request) => {
    const { name, version } = request.params;
    return modelEvaluation(db, artifacts, name, version, request.query.evaluation);
  });
  app.get('/datasets/:version/models', { schema: { summary: 'The registered model versions made from a dataset version', tags: ['loom'], params: datasetParams } }, async (request) =>
    datasetVersionModels(db, request.params.version),
  );
};
