/**
 * A custom trainer: any command (`python train.py`, a binary, a container runner) that
 * reads Loom's transformed data and its parameters by path and writes an ONNX model. Loom
 * runs it without a shell, streams its output, and checks what it wrote before anything is
 * recorded: a non-zero exit, a timeout, a missing file or a model that does not take the
 * transformed features is a clear error naming the cause.
 *
 * What the command gets, as environment variables:
 *   LOOM_DATA_DIR       transformed examples: train/ and eval/ with features.f32 (row-major
 *                       float32 [rows, width]) and labels.f32, and meta.json {width, featureNames}
 *   LOOM_FEATURE_WIDTH  the width
 *   LOOM_PARAMS         a JSON file with the step's `params`
 *   LOOM_MODEL_PATH     where to write model.onnx: input `features` float32 [N, width]; output
 *                       `probability` [N, 1], or a float [N, 2] class-probability output (as
 *                       skl2onnx exports with zipmap off), which Loom reduces to the positive class
 *   plus, when a tracking server is reachable, MLFLOW_TRACKING_URI and MLFLOW_RUN_ID, so the
 *   script's `mlflow.log_metric` calls land in the step's tracking run over MLflow's REST API.
 *
 * Usage: `await runCustomTrainer({ command: ['python', 'train.py'], params: { C: 1 } }, { dataDir, modelPath, width })`
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseInput } from '../../core/validation.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { composeGraphs } from '../../onnx/compose.js';
import { readSignature } from '../../onnx/inspect.js';
import { encodeModel } from '../../onnx/proto.js';
import { MODEL_INPUT, MODEL_OUTPUT } from '../export.js';

export const customTrainerSchema = z.object({
  /** The program and its arguments, run without a shell. */
  command: z.array(z.string().min(1)).min(1),
  /** Parameters the command reads from LOOM_PARAMS. */
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
  timeoutSeconds: z.number().int().positive().default(3600),
  /** Extra environment variables. */
  env: z.record(z.string(), z.string()).default({}),
});
export type CustomTrainerSpec = z.input<typeof customTrainerSchema>;

export interface CustomTrainingRun {
  dataDir: string;
  /** Where the finished model.onnx is left (in the Loom layout). */
  modelPath: string;
  width: number;
  /** Each line the command prints, stdout and stderr. */
  onOutput?(line: string): void;
  /** Tracking variables (MLFLOW_TRACKING_URI, MLFLOW_RUN_ID) for the command. */
  trackingEnv?: Record<string, string>;
}

export interface CustomTrainingResult {
  seconds: number;
  /** Whether Loom reduced a two-column probability output to `probability`. */
  adapted: boolean;
}

const TAIL_LINES = 20;

export async function runCustomTrainer(rawSpec: CustomTrainerSpec, run: CustomTrainingRun): Promise<CustomTrainingResult> {
  const spec = parseInput(customTrainerSchema, rawSpec, { what: 'the custom trainer', fix: 'give command (an argv array), and optionally params, timeoutSeconds and env' });
  const paramsPath = join(dirname(run.modelPath), 'params.json');
  await writeFile(paramsPath, JSON.stringify(spec.params, null, 2));
  await rm(run.modelPath, { force: true });
  const started = performance.now();
  try {
    await runCommand(spec, {
      // eslint-disable-next-line no-restricted-properties -- the user's command inherits the caller's environment (PATH, HOME); no Loom setting is read here
      ...process.env,
      ...spec.env,
      ...run.trackingEnv,
      LOOM_DATA_DIR: run.dataDir,
      LOOM_FEATURE_WIDTH: String(run.width),
      LOOM_PARAMS: paramsPath,
      LOOM_MODEL_PATH: run.modelPath,
    }, run.onOutput);
  } finally {
    await rm(paramsPath, { force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = await readFile(run.modelPath).catch(() => undefined);
  if (!bytes) {
    throw new LoomError('FAILED_PRECONDITION', `the custom trainer \`${spec.command.join(' ')}\` exited 0 but wrote no model at LOOM_MODEL_PATH`, {
      fix: 'write the ONNX model to the path in the LOOM_MODEL_PATH environment variable',
    });
  }
  const adapted = await toLoomLayout(bytes, run);
  return { seconds, adapted };
}

function runCommand(spec: z.output<typeof customTrainerSchema>, env: NodeJS.ProcessEnv, onOutput?: (line: string) => void): Promise<void> {
  const [program, ...args] = spec.command;
  const tail: string[] = [];
  const collect = (chunk: Buffer, pending: { text: string }) => {
    pending.text += chunk.toString('utf8');
    const lines = pending.text.split('\n');
    pending.text = lines.pop() ?? '';
    for (const line of lines) {
      onOutput?.(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
  };
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { text: '' };
    const err = { text: '' };
    child.stdout.on('data', (chunk: Buffer) => collect(chunk, out));
    child.stderr.on('data', (chunk: Buffer) => collect(chunk, err));
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new LoomError('INVALID_ARGUMENT', `cannot start the custom trainer \`${program}\`: ${error.message}`, {
          field: 'command',
          fix: 'give the program as the first element of `command` (a path, or a name on PATH)',
        }),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const rest of [out.text, err.text]) if (rest) tail.push(rest);
      if (code === 0) return resolve();
      const why = signal === 'SIGKILL' ? `was stopped after ${spec.timeoutSeconds} s` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(
        new LoomError('FAILED_PRECONDITION', `the custom trainer \`${spec.command.join(' ')}\` ${why}; its last output:\n${tail.slice(-TAIL_LINES).join('\n')}`, {
          fix: 'fix the script (its output is above) and run the pipeline again; the steps before it are cached',
        }),
      );
    });
  });
}

/** Checks the model takes `features` [N, width]; reduces a [N, 2] probability output to `probability` [N, 1]. */
async function toLoomLayout(bytes: Uint8Array, run: CustomTrainingRun): Promise<boolean> {
  const where = 'the custom trainer’s model';
  let signature;
  try {
    signature = readSignature(bytes);
  } catch (error) {
    throw new LoomError('FAILED_PRECONDITION', `${where} is not a readable ONNX model: ${(error as Error).message}`, {
      fix: 'write a valid ONNX ModelProto (for scikit-learn: skl2onnx.to_onnx(model, ..., options={"zipmap": False}))',
    });
  }
  const input = signature.inputs.find((spec) => spec.name === MODEL_INPUT);
  if (!input || signature.inputs.length !== 1 || input.type !== 'float32' || input.shape.length !== 2 || (input.shape[1] !== -1 && input.shape[1] !== run.width)) {
    throw new LoomError('FAILED_PRECONDITION', `${where} must have one input "features" float32 [N, ${run.width}]; it has ${signature.inputs.map((s) => `${s.name} ${s.type} [${s.shape.join(', ')}]`).join(', ')}`, {
      fix: `name the input "features" with shape [None, ${run.width}] (skl2onnx: initial_types=[("features", FloatTensorType([None, ${run.width}]))])`,
    });
  }
  if (signature.outputs.some((spec) => spec.name === MODEL_OUTPUT)) return false;
  const pair = signature.outputs.find((spec) => spec.type === 'float32' && spec.shape.length === 2 && spec.shape[1] === 2);
  if (!pair) {
    throw new LoomError('FAILED_PRECONDITION', `${where} has no "probability" output and no float [N, 2] class-probability output (outputs: ${signature.outputs.map((s) => s.name).join(', ')})`, {
      fix: 'output "probability" float32 [N, 1], or class probabilities [N, 2] without ZipMap',
    });
  }
  await writeFile(run.modelPath, encodeModel(composeGraphs(bytes, positiveClassAdapter(pair.name), { connect: { [pair.name]: pair.name }, prefixes: ['custom/', 'loom/'] })));
  return true;
}

/** [N, 2] class probabilities -> the positive class's column as `probability` [N, 1]. */
function positiveClassAdapter(input: string): Uint8Array {
  const g = new GraphBuilder('loom_positive_class');
  g.addInput(input, 'float32', [-1, 2]);
  const starts = g.addInitializer('starts', new BigInt64Array([1n]), [1]);
  const ends = g.addInitializer('ends', new BigInt64Array([2n]), [1]);
  const axes = g.addInitializer('axes', new BigInt64Array([1n]), [1]);
  g.addNode('Slice', [input, starts, ends, axes], [MODEL_OUTPUT]);
  g.addOutput(MODEL_OUTPUT, 'float32', [-1, 1]);
  return g.toBytes();
}
