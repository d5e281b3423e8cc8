/**
 * The `transform` step: fits the analyzers on the training split, writes the transform
 * graph, and produces the transformed splits by running that same graph over them.
 * It only wires artifacts to analyzers.ts, graph.ts and apply.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoomError } from '../core/errors.js';
import { defineComponent } from '../pipeline/component.js';
import { Examples, Schema, TransformGraph, TransformedExamples } from '../pipeline/artifact-types.js';
import { fitTransform } from './analyzers.js';
import { transformConfig } from './config.js';
import { applyTransform } from './apply.js';
import { countRows } from '../data/duckdb.js';
import { buildTransformGraph, transformInputs } from './graph.js';
import { pathExists } from '../core/path-exists.js';

// File names relative to the artifact, as the artifact types declare them.
export const TRANSFORM_GRAPH_FILE = TransformGraph.files.graph('.');
export const TRANSFORM_JSON_FILE = TransformGraph.files.fitted('.');
export const TRANSFORMED_META_FILE = TransformedExamples.files.meta('.');
/** Splits transformed when the examples have them, in this order. */
export const TRANSFORM_SPLITS = ['train', 'eval'] as const;

/** The analyzers and their options (config.ts); the parameters of version 1 keep their meaning. */
export const transformParameters = transformConfig;

export const transformComponent = defineComponent({
  name: 'transform',
  // 4: timestamps read by the graph from ISO 8601 text or epoch numbers, in a time zone; 3: out-of-vocabulary values hashed by the graph.
  version: '4',
  description: 'Fits feature analyzers on the training split, emits the transform as an ONNX graph and the transformed splits',
  inputs: { examples: { type: Examples }, schema: { type: Schema } },
  outputs: { transformGraph: TransformGraph, transformedExamples: TransformedExamples },
  parameters: transformParameters,
  async execute({ inputs, outputs, parameters }, services) {
    const trainPath = Examples.files.split(inputs.examples.path, 'train');
    if (!(await pathExists(trainPath))) {
      throw new LoomError('FAILED_PRECONDITION', `the examples have no training split (${trainPath})`, {
        fix: 'split the data into train and eval before the transform',
      });
    }
    const fitted = await fitTransform(trainPath, { ...parameters, log: services.log });
    const graphPath = join(outputs.transformGraph, TRANSFORM_GRAPH_FILE);
    await writeFile(graphPath, buildTransformGraph(fitted));
    await writeFile(join(outputs.transformGraph, TRANSFORM_JSON_FILE), `${JSON.stringify(fitted, null, 2)}\n`);
    services.log(`transform: ${fitted.features.length} features -> ${fitted.outputWidth} columns`);

    const rowCounts: Record<string, number> = {};
    for (const split of TRANSFORM_SPLITS) {
      const parquetPath = Examples.files.split(inputs.examples.path, split);
      if (!(await pathExists(parquetPath))) continue;
      const task = services.progress.start(`transforming ${split}`, await countRows(parquetPath), 'rows');
      const splitDir = join(outputs.transformedExamples, split);
      await mkdir(splitDir, { recursive: true });
      const applied = await applyTransform({ graphPath, parquetPath, splitDir, labelColumn: parameters.labelColumn, progress: task });
      task.done();
      rowCounts[split] = applied.rowCount;
    }
    const meta = { width: fitted.outputWidth, rowCounts, featureNames: fitted.featureNames };
    await writeFile(join(outputs.transformedExamples, TRANSFORMED_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);

    return {
      properties: {
        transformGraph: {
          inputs: transformInputs(fitted).map(({ name, type, shape }) => ({ name, type, shape })),
          outputWidth: fitted.outputWidth,
          featureNames: fitted.featureNames,
          labelColumn: fitted.labelColumn,
        },
        transformedExamples: { width: fitted.outputWidth, rowCounts },
      },
    };
  },
});
