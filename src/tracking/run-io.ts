/**
 * Loads what runs read and produced (MLflow's RunInputs and RunOutputs) for many runs at
 * once, so listing runs stays one query per table whatever the page size.
 */
import { chunks, IN_LIST_CHUNK } from '../metadata/query-helpers.js';
import type { DatasetInput, ModelOutput, RunInputs, RunOutputs } from './logged-model-types.js';
import type { TrackingKysely } from './tracking-tables.js';

/** Runs' inputs and outputs by run id, one query each per chunk (for `withData`). */
export async function runInputsAndOutputs(db: TrackingKysely, runIds: string[]): Promise<Map<string, { inputs: RunInputs; outputs: RunOutputs }>> {
  const found = new Map(runIds.map((id) => [id, { inputs: { datasetInputs: [] as DatasetInput[] }, outputs: { modelOutputs: [] as ModelOutput[] } }]));
  for (const ids of chunks(runIds, IN_LIST_CHUNK)) {
    const [datasets, models] = await Promise.all([
      db.selectFrom('tracking_dataset_input').selectAll().where('run_id', 'in', ids).orderBy('logged_at').orderBy('name').execute(),
      db.selectFrom('tracking_model_output').selectAll().where('run_id', 'in', ids).orderBy('step').orderBy('model_id').execute(),
    ]);
    for (const d of datasets) {
      found.get(d.run_id)!.inputs.datasetInputs.push({
        dataset: { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source, schema: d.schema, profile: d.profile },
        tags: JSON.parse(d.tags) as Record<string, string>,
      });
    }
    for (const m of models) found.get(m.run_id)!.outputs.modelOutputs.push({ modelId: m.model_id, step: Number(m.step) });
  }
  return found;
}
