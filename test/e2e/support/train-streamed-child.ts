/**
 * Child process of the larger-than-memory test: runs the train step's logistic regression
 * on a TransformedExamples directory, then prints its resident memory before training (VmRSS) and its peak (VmHWM).
 * Usage: node --import tsx train-streamed-child.ts <transformed dir> <model dir> <parameters JSON> [checkpoint dir]
 * With a checkpoint dir it checkpoints there and resumes from a checkpoint it finds there.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../../../src/core/checkpoint-files.js';
import { trainComponent, trainParameters } from '../../../src/train/component.js';
import { testServices } from '../../support/services.js';

const memory = async (field: 'VmHWM' | 'VmRSS') => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(await readFile('/proc/self/status', 'utf8'))?.[1]) * 1024;
// Resident memory once everything is loaded, before training: what training adds is peak - this.
const beforeBytes = await memory('VmRSS');
const [dataDir, modelDir, parametersJson, checkpointDir] = process.argv.slice(2) as [string, string, string, string | undefined];
const resumeFrom = checkpointDir && (await readFile(join(checkpointDir, CHECKPOINT_FILE)).then(() => checkpointDir, () => undefined));
const artifact = (path: string, properties: Record<string, string> = {}) => ({ id: 1, uri: `file://${path}`, path, fingerprint: path, properties });
await mkdir(modelDir, { recursive: true });
const result = await trainComponent.execute({
  inputs: { transformedExamples: artifact(dataDir), transformGraph: artifact(dataDir, { labelColumn: 'y' }) },
  outputs: { model: modelDir },
  parameters: trainParameters.parse(JSON.parse(parametersJson)),
  ...(checkpointDir ? { checkpoints: resumeFrom ? { dir: checkpointDir, resumeFrom } : { dir: checkpointDir } } : {}),
}, { ...testServices(), log: (line: string) => process.stderr.write(`${line}\n`) });
process.stdout.write(JSON.stringify({ beforeBytes, peakBytes: await memory('VmHWM'), model: result.properties.model }));
