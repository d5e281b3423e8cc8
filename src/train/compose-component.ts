/**
 * The `compose` step: the transform graph and the trained model become one ONNX graph
 * over raw features (`model.onnx`), with its `signature.json`. This single file is what
 * evaluation, batch scoring, the registry and serving load (principle 1).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { defineComponent } from '../pipeline/component.js';
import { Model, ServingModel, TransformGraph } from '../pipeline/artifact-types.js';
import { composeGraphs } from '../onnx/compose.js';
import { readMetadata, readSignature } from '../onnx/inspect.js';
import { encodeModel } from '../onnx/proto.js';
import { FEATURES_OUTPUT, METADATA_LABEL_COLUMN } from '../transform/graph.js';
import { MODEL_INPUT } from './export.js';

export const composeComponent = defineComponent({
  name: 'compose',
  version: '1',
  description: 'Composes the transform graph and the model into one ONNX graph over raw features',
  inputs: { transformGraph: { type: TransformGraph }, model: { type: Model } },
  outputs: { servingModel: ServingModel },
  parameters: z.object({}),
  async execute({ inputs, outputs }, services) {
    const transform = await readFile(TransformGraph.files.graph(inputs.transformGraph.path));
    const model = await readFile(Model.files.model(inputs.model.path));
    const composed = composeGraphs(transform, model, {
      connect: { [FEATURES_OUTPUT]: MODEL_INPUT },
      prefixes: ['transform/', 'model/'],
      name: 'loom_serving_model',
    });
    const bytes = encodeModel(composed);
    await writeFile(ServingModel.files.model(outputs.servingModel), bytes);
    const signature = readSignature(composed);
    // The model's one signature: serving, batch scoring and push read this file.
    await writeFile(ServingModel.files.signature(outputs.servingModel), `${JSON.stringify(signature, null, 2)}\n`);
    const labelColumn = readMetadata(composed)[METADATA_LABEL_COLUMN] ?? String(inputs.transformGraph.properties.labelColumn ?? '');
    services.log(`compose: serving model over ${signature.inputs.map((input) => input.name).join(', ')}`);
    return {
      properties: {
        servingModel: { labelColumn },
      },
    };
  },
});
