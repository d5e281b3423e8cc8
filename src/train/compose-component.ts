/**
 * The `compose` step: the transform graph and the trained model become one ONNX graph
 * over raw features (`model.onnx`), with its `signature.json`. This single file is what
 * evaluation, batch scoring, the registry and serving load (principle 1).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineComponent } from '../pipeline/component.js';
import { Model, ServingModel, TransformGraph } from '../pipeline/artifact-types.js';
import { composeGraphs } from '../onnx/compose.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { encodeModel } from '../onnx/proto.js';
import { TRANSFORM_GRAPH_FILE } from '../transform/component.js';
import { FEATURES_OUTPUT, METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { MODEL_FILE } from './component.js';
import { MODEL_INPUT } from './export.js';

export const SIGNATURE_FILE = 'signature.json';

export const composeComponent = defineComponent({
  name: 'compose',
  version: '1',
  description: 'Composes the transform graph and the model into one ONNX graph over raw features',
  inputs: { transformGraph: { type: TransformGraph }, model: { type: Model } },
  outputs: { servingModel: ServingModel },
  parameters: z.object({}),
  async execute({ inputs, outputs }, services) {
    const transform = await readFile(join(inputs.transformGraph.path, TRANSFORM_GRAPH_FILE));
    const model = await readFile(join(inputs.model.path, MODEL_FILE));
    const composed = composeGraphs(transform, model, {
      connect: { [FEATURES_OUTPUT]: MODEL_INPUT },
      prefixes: ['transform/', 'model/'],
      name: 'loom_serving_model',
    });
    const bytes = encodeModel(composed);
    await writeFile(join(outputs.servingModel, MODEL_FILE), bytes);
    const signature = readSignature(composed);
    await writeFile(join(outputs.servingModel, SIGNATURE_FILE), `${JSON.stringify(signature, null, 2)}\n`);
    const labelColumn = readMetadata(composed)[METADATA_LABEL_COLUMN] ?? String(inputs.transformGraph.properties.labelColumn ?? '');
    services.log(`compose: serving model over ${signature.inputs.map((input) => input.name).join(', ')}`);
    return {
      properties: {
        servingModel: {
          signature: {
            inputs: signature.inputs.map(({ name, type, shape }) => ({ name, type, shape })),
            outputs: signature.outputs.map(({ name, type, shape }) => ({ name, type, shape })),
          },
          labelColumn,
        },
      },
    };
  },
});
