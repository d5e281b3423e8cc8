/**
 * The evaluate step `loom evaluate` runs on registered versions: the same evaluation as a
 * pipeline's (component.ts, `evaluateInto`), over an Examples input, with the candidate and
 * the baseline named as registered versions. A version registered with a ServingModel
 * artifact is an input (recorded in lineage); one registered by URI alone (through the
 * MLflow API) is read from its source and named in the parameters.
 */
import { z } from 'zod';
import { Examples, ModelBlessing, ModelEvaluation, ServingModel } from '../pipeline/artifact-types.js';
import { defineComponent } from '../pipeline/component.js';
import { evaluationConfigFields, checkConfig, type EvaluationConfig } from './config.js';
import { evaluateInto } from './component.js';

const artifactRef = z.object({
  uri: z.string().min(1),
  artifactId: z.number().int().optional(),
  name: z.string().optional(),
  version: z.number().int().optional(),
  lineage: z.array(z.object({ type: z.string(), uri: z.string(), id: z.number().int().optional(), note: z.string().optional() })).optional(),
});

/** A registered version: where its files are (the artifact store URI), and how the report names it. */
const versionParameter = z.object({ source: z.string().min(1), ref: artifactRef });

export const registeredEvaluationParameters = evaluationConfigFields
  .extend({
    split: z.string().min(1).default('eval'),
    labelColumn: z.string().min(1),
    /** The data as messages name it (the split of a dataset version, or a file's name). */
    where: z.string().min(1),
    model: versionParameter,
    baseline: versionParameter.nullable().default(null),
  })
  .superRefine(checkConfig);

export const registeredEvaluationComponent = defineComponent({
  name: 'evaluate',
  version: 'registered-1',
  description: 'Evaluates a registered model version (against a baseline version) on a dataset version',
  inputs: {
    examples: { type: Examples },
    model: { type: ServingModel, optional: true },
    baseline: { type: ServingModel, optional: true },
  },
  outputs: { evaluation: ModelEvaluation, blessing: ModelBlessing },
  parameters: registeredEvaluationParameters,
  async execute({ inputs, outputs, parameters, run }, services) {
    const { split, where, model, baseline, ...config } = parameters;
    const dirOf = async (input: { path: string } | undefined, version: { source: string }) => input?.path ?? (await services.artifacts.localPath(version.source));
    return evaluateInto(outputs, services, {
      config: config as EvaluationConfig,
      labelColumn: config.labelColumn,
      examples: inputs.examples,
      split,
      where,
      model: { path: await dirOf(inputs.model, model), ref: model.ref },
      baseline: baseline ? { path: await dirOf(inputs.baseline, baseline), ref: baseline.ref } : undefined,
      runId: run?.runId ?? '',
    });
  },
});
