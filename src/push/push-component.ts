/**
 * The push step: registers the evaluated ServingModel as a new READY version and moves
 * the alias (default `champion`) to it only when the model was blessed. Serving follows
 * the alias, so this step is the one place a pipeline changes what is served.
 *
 * Usage: `pipeline.step(pushComponent, { inputs: { servingModel, evaluation, blessing }, parameters: { modelName: 'flights' } })`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { ModelBlessing, ModelEvaluation, PushedModel, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { servingSignature } from '../pipeline/serving-model.js';

export const pushParameters = z.object({
  modelName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-", starting with a letter or digit'),
  alias: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'a letter, then letters, digits, "_" and "-"').default('champion'),
});
export type PushParameters = z.output<typeof pushParameters>;

/** The content of `pushed.json`. */
export interface PushReport {
  modelName: string;
  version: number;
  /** The alias the version now holds ('' when it was not blessed). */
  alias: string;
  aliasMoved: boolean;
  /** When the model's approval rule covers the alias: the request waiting for a person's sign-off. */
  approvalRequestId?: number;
  blessed: boolean;
  reason: string;
}

export const pushComponent = defineComponent({
  name: 'push',
  version: '1',
  description: 'Registers the model version and moves the alias to it when blessed',
  inputs: {
    servingModel: { type: ServingModel },
    evaluation: { type: ModelEvaluation },
    blessing: { type: ModelBlessing },
  },
  outputs: { pushed: PushedModel },
  parameters: pushParameters,
  async execute({ inputs, outputs, parameters, run }, services) {
    const runId = run?.runId ?? 'outside a pipeline run';
    const { registry } = services;
    const blessing = await readJson<{ blessed: boolean; reason: string }>(ModelBlessing.files.blessing(inputs.blessing.path));
    const evaluation = await readJson<{ metrics: Record<string, unknown> }>(ModelEvaluation.files.evaluation(inputs.evaluation.path));
    // The registry keeps a copy of the artifact's one signature, for MLflow clients.
    const signature = await servingSignature(inputs.servingModel.path, null, `the serving model ${inputs.servingModel.uri}`);

    const model = await registry.ensureRegisteredModel(parameters.modelName);
    const version = await registry.createModelVersion({
      modelName: parameters.modelName,
      source: inputs.servingModel.uri,
      artifactId: inputs.servingModel.id,
      runId: run?.runId ?? null,
      status: 'READY',
      description: `pushed by pipeline run ${runId}`,
      signature,
      metrics: finiteMetrics(evaluation.metrics),
      properties: { blessed: blessing.blessed, blessingReason: blessing.reason, fingerprint: inputs.servingModel.fingerprint },
      lineage: { evaluationUri: inputs.evaluation.uri, blessed: blessing.blessed },
    });

    const who = { actor: 'pipeline', reason: `run ${runId}: ${blessing.reason}` };
    const needsApproval = model.approvalRequiredFor.includes(parameters.alias);
    let approvalRequestId: number | undefined;
    if (blessing.blessed && needsApproval) {
      // A person signs off before the alias moves; the pipeline only asks.
      approvalRequestId = (await registry.requestAliasMove(parameters.modelName, parameters.alias, version.version, who)).id;
      services.log(`${parameters.modelName} version ${version.version} registered; @${parameters.alias} waits for approval (request ${approvalRequestId})`);
    } else if (blessing.blessed) {
      await registry.setAlias(parameters.modelName, parameters.alias, version.version, who);
      services.log(`${parameters.modelName} version ${version.version} is now @${parameters.alias}`);
    } else {
      services.log(`${parameters.modelName} version ${version.version} registered; @${parameters.alias} not moved: ${blessing.reason}`);
    }

    const report: PushReport = {
      modelName: parameters.modelName,
      version: version.version,
      alias: blessing.blessed && !needsApproval ? parameters.alias : '',
      aliasMoved: blessing.blessed && !needsApproval,
      ...(approvalRequestId !== undefined ? { approvalRequestId } : {}),
      blessed: blessing.blessed,
      reason: blessing.reason,
    };
    await writeFile(PushedModel.files.pushed(outputs.pushed), `${JSON.stringify(report, null, 2)}\n`);
    return { properties: { pushed: { modelName: report.modelName, version: report.version, alias: report.alias } } };
  },
});

/** The registry stores numbers only; metrics that were undefined (null in JSON) are left out. */
function finiteMetrics(metrics: Record<string, unknown>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics ?? {})) {
    if (typeof value === 'number' && Number.isFinite(value)) result[name] = value;
  }
  return result;
}

async function readJson<T>(file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LoomError('FAILED_PRECONDITION', `cannot read the input artifact's ${file}: ${message}`);
  }
}
