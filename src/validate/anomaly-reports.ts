/**
 * The one on-disk form of an ExampleAnomalies artifact: `anomalies.json` holding the
 * reports it found, one per split a pipeline's validate step checked, or one for the whole
 * version `loom data validate` checked. Written and read only here.
 *
 * Usage: `const { reports } = await readAnomalyReports(inputs.anomalies.path);`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { LoomError } from '../core/errors.js';
import { parseInput } from '../core/validation.js';
import { ExampleAnomalies } from '../pipeline/artifact-types.js';
import type { AnomalyReport } from './anomalies.js';

export interface AnomalyReports {
  version: 1;
  reports: AnomalyReport[];
}

// The reports are ours; what is checked is the envelope and the counts every reader uses.
const anomalyReportsFile = z.object({
  version: z.literal(1),
  reports: z.array(z.object({ version: z.literal(1), errorCount: z.number().int(), warningCount: z.number().int(), anomalies: z.array(z.unknown()) }).passthrough()),
});

export async function writeAnomalyReports(dir: string, reports: AnomalyReport[]): Promise<void> {
  const content: AnomalyReports = { version: 1, reports };
  await writeFile(ExampleAnomalies.files.anomalies(dir), `${JSON.stringify(content, null, 2)}\n`);
}

export async function readAnomalyReports(dir: string): Promise<AnomalyReports> {
  const file = ExampleAnomalies.files.anomalies(dir);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new LoomError('FAILED_PRECONDITION', `${file} is missing: the artifact is not an ExampleAnomalies`);
  });
  return parseInput(anomalyReportsFile, JSON.parse(text), { what: file, fix: 'validate the data again with this version of Loom' }) as AnomalyReports;
}

/** Error and warning counts over every report. */
export function countAnomalies(reports: AnomalyReport[]): { errorCount: number; warningCount: number } {
  return { errorCount: reports.reduce((sum, r) => sum + r.errorCount, 0), warningCount: reports.reduce((sum, r) => sum + r.warningCount, 0) };
}
