/**
 * The evaluations of a registered model version, as the dashboard's model page shows them:
 * every evaluation recorded with the version's artifact as its `model` input (its pipeline's
 * evaluate step, and each `loom evaluate`), and one of them in full: the overall metrics with
 * their bootstrap intervals beside the baseline's, the metric table of each slice with its
 * intervals, fairness by group with the disparities, every threshold check, the blessing, and
 * the model card the evaluation wrote. Read from the recorded `evaluation.json` and
 * `model_card.md`; nothing is computed again here.
 *
 * Usage: `const view = await modelEvaluation(platform, platform.artifacts, 'flights', 3);`
 */
import { readFile } from 'node:fs/promises';
import { LoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { Artifact } from '../metadata/types.js';
import { ModelEvaluation } from '../pipeline/artifact-types.js';
import { resolveModelVersion } from '../registry/model-ref.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { evaluationReportFile } from './model-evaluation-report.js';
import type { EvaluationDetail, EvaluationSummary, ModelEvaluationView } from './views/model-evaluation.js';

// The answer's types live in views/ (no Node) so the dashboard shares them; re-exported for the server's users.
export type { EvaluationDetail, EvaluationSummary, MetricRow, ModelEvaluationView } from './views/model-evaluation.js';

/** The stores this query reads. */
export interface ModelEvaluationStores {
  metadata: MetadataStore;
  registry: RegistryStore;
}

/** The evaluations of `name` version `version` and one of them in full (`evaluationId`: a ModelEvaluation artifact id). */
export async function modelEvaluation(stores: ModelEvaluationStores, artifacts: ArtifactStore, name: string, version: number, evaluationId?: number): Promise<ModelEvaluationView> {
  const modelVersion = await resolveModelVersion({ name, version }, stores.registry);
  const found = await evaluationArtifacts(stores.metadata, modelVersion.artifactId);
  const registeredUri = modelVersion.lineage.evaluationUri;
  const details: EvaluationDetail[] = [];
  for (const { artifact, executionId } of found) {
    const dir = await artifacts.localPath(artifact.uri);
    const report = await evaluationReportFile(ModelEvaluation.files.evaluation(dir));
    const modelCard = await readFile(ModelEvaluation.files.cardMarkdown(dir), 'utf8').catch(() => null);
    const pipelineRun = (await stores.metadata.getContextsOfExecution(executionId)).some((c) => c.typeName === 'pipeline_run' && c.name === report.runId);
    details.push({ artifactId: artifact.id, executionId, registeredWith: artifact.uri === registeredUri, pipelineRun, modelCard, ...report });
  }
  details.sort((a, b) => b.artifactId - a.artifactId);
  if (evaluationId !== undefined && !details.some((d) => d.artifactId === evaluationId)) {
    throw new LoomError('NOT_FOUND', `evaluation #${evaluationId} is not an evaluation of "${name}" version ${version}`, {
      field: 'evaluation',
      fix: 'leave it out for the evaluation the version was registered with, or pick one from `evaluations`',
    });
  }
  const selected = details.find((d) => d.artifactId === evaluationId) ?? details.find((d) => d.registeredWith) ?? details[0] ?? null;
  const summary = ({ artifactId, executionId, runId, pipelineRun, evaluatedAt, split, rowCount, blessed, registeredWith }: EvaluationDetail): EvaluationSummary => ({
    artifactId, executionId, runId, pipelineRun, evaluatedAt, split, rowCount, blessed, registeredWith,
  });
  return { model: { name, version }, evaluations: details.map(summary), selected };
}

/** The ModelEvaluation outputs of the executions that read `artifactId` as their `model` (not as a baseline). */
async function evaluationArtifacts(metadata: MetadataStore, artifactId: number | null): Promise<{ artifact: Artifact; executionId: number }[]> {
  // A version registered by URI alone (through the MLflow API) has no artifact, so no recorded evaluation names it.
  if (artifactId === null) return [];
  const reads = (await metadata.getEvents({ artifactIds: [artifactId] })).filter((e) => e.type === 'INPUT' && e.name === 'model');
  const executionIds = [...new Set(reads.map((e) => e.executionId))];
  if (executionIds.length === 0) return [];
  const outputs = (await metadata.getEvents({ executionIds })).filter((e) => e.type === 'OUTPUT' && e.name === 'evaluation');
  const byId = new Map((await metadata.getArtifacts([...new Set(outputs.map((e) => e.artifactId))])).map((a) => [a.id, a]));
  // A cached re-run records the same output again: one entry per artifact.
  const seen = new Set<number>();
  return outputs.flatMap((e) => {
    const artifact = byId.get(e.artifactId);
    if (!artifact || artifact.typeName !== ModelEvaluation.name || seen.has(artifact.id)) return [];
    seen.add(artifact.id);
    return [{ artifact, executionId: e.executionId }];
  });
}
