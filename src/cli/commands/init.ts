/**
 * `loom init [dir] [--data <file>] [--label <column>]`: scaffolds a Loom project. It writes a
 * pipeline file on the user's data (or, without --data, on the 2001 flights shipped with Loom),
 * a `schemas/` folder for the schema the first run infers, a `.gitignore` for `.loom/`, a short
 * README, and a package.json when there is none. Files that exist are kept (the pipeline file
 * only with --force is replaced); package.json only gains the install setting below.
 *
 * onnxruntime-node's install script downloads a CUDA provider from NuGet on linux/x64, which fails
 * where only the package registries are reachable; Loom runs ONNX on the CPU, so the project's
 * package.json denies that script (`allowScripts`; an npm that predates it takes
 * `ONNXRUNTIME_NODE_INSTALL=skip` in the environment of the install instead).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { nearestName } from '../../core/suggest.js';
import { queryRows, readSource, sqlIdent, withDuckDB } from '../../data/duckdb.js';
import { parseOptions } from '../options.js';
import { printJson } from '../output.js';

/** The package.json setting that lets `npm install` succeed without reaching NuGet. */
export const INSTALL_SETTING = { allowScripts: { 'onnxruntime-node': false } } as const;

const initOptions = z.object({
  data: z.string().min(1).optional(),
  label: z.string().min(1).optional(),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"').optional(),
  force: z.boolean().optional(),
  json: z.boolean().optional(),
});
type InitOptions = z.output<typeof initOptions>;

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('scaffold a Loom project: a pipeline file on your data, a schema folder, .gitignore, README and package.json')
    .argument('[dir]', 'the project folder (created if missing)', '.')
    .option('--data <file>', 'the CSV or Parquet file to train on (default: 2001 US flights shipped with Loom)')
    .option('--label <column>', 'the column to predict (0/1 or true/false); required with --data')
    .option('--model <name>', 'the registered model name (default: the folder name)')
    .option('--force', 'replace an existing pipeline.ts')
    .option('--json', 'print what was written as JSON')
    .action(async (dir: string, raw: unknown) => {
      const options = parseOptions(initOptions, raw);
      const result = await initProject(resolve(dir), options);
      if (options.json) printJson(result);
      else printNextSteps(result);
    });
}

export interface InitResult {
  dir: string;
  model: string;
  written: string[];
  kept: string[];
}

/** How the pipeline reads the data: the columns ingest keeps and how rows split into train and eval. */
interface DataPlan {
  /** The file as the pipeline names it: relative to the pipeline file when inside the project; none for the flights. */
  source?: string;
  label: string;
  select?: Record<string, string>;
  where?: string;
  /** A date/time column: a feature through the datetime analyzer (hour, weekday, month in the served graph). */
  timeColumn?: string;
  split: { kind: 'time'; column: string; evalFrom: string } | { kind: 'hash'; key: string; evalPercent: number };
}

export async function initProject(dir: string, options: InitOptions): Promise<InitResult> {
  const model = options.model ?? sanitizeName(basename(dir));
  const plan = options.data ? await planForData(dir, options.data, options.label) : flightsPlan();
  await mkdir(join(dir, 'schemas'), { recursive: true });
  const result: InitResult = { dir, model, written: [], kept: [] };
  const put = async (name: string, text: string, replace = false) => {
    if (existsSync(join(dir, name)) && !replace) return void result.kept.push(name);
    await writeFile(join(dir, name), text);
    result.written.push(name);
  };
  await put('pipeline.ts', pipelineSource(plan, model), options.force === true);
  await put(join('schemas', 'README.md'), SCHEMAS_README(model));
  await put('README.md', projectReadme(model, plan));
  await updateGitignore(dir, result);
  await updatePackageJson(dir, model, result);
  return result;
}

function flightsPlan(): DataPlan {
  return {
    label: 'delayed',
    select: { date: 'date', distance: 'distance', origin: 'origin', destination: 'destination', delayed: 'delay > 15' },
    // January trains, February evaluates.
    where: "date < TIMESTAMP '2001-03-01'",
    timeColumn: 'date',
    split: { kind: 'time', column: 'date', evalFrom: '2001-02-01' },
  };
}

/** Reads the file's columns: the label must be one, and the first date/time column (if any) splits by time. */
async function planForData(dir: string, data: string, label: string | undefined): Promise<DataPlan> {
  const path = resolve(data);
  if (!existsSync(path)) throw new LoomError('NOT_FOUND', `the data file ${data} does not exist`, { field: '--data', fix: 'give the path of a .csv or .parquet file' });
  const columns = await withDuckDB(async (db) => {
    const described = await queryRows(db, `DESCRIBE SELECT * FROM ${readSource(path)}`);
    return described.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  });
  const names = columns.map((column) => column.name);
  if (label === undefined || !names.includes(label)) {
    const nearest = label === undefined ? undefined : nearestName(label, names);
    throw new LoomError('INVALID_ARGUMENT', label === undefined ? 'which column should the model predict?' : `${data} has no column "${label}"${nearest ? ` (did you mean "${nearest}"?)` : ''}`, {
      field: '--label',
      fix: `pass --label with one of: ${names.join(', ')}`,
    });
  }
  const inside = !relative(dir, path).startsWith('..');
  const source = inside ? relative(dir, path).split(sep).join('/') : path;
  const time = columns.find((column) => column.name !== label && /^(DATE|TIMESTAMP)/.test(column.type));
  if (time) {
    // The newest fifth of the rows evaluates, so the model is judged on data after its training data.
    const evalFrom = await withDuckDB(async (db) => {
      const [row] = await queryRows(db, `SELECT strftime(quantile_disc(${sqlIdent(time.name)}, 0.8)::TIMESTAMP, '%Y-%m-%d %H:%M:%S') AS at FROM ${readSource(path)}`);
      return String(row?.at);
    });
    return { source, label, timeColumn: time.name, split: { kind: 'time', column: time.name, evalFrom } };
  }
  const key = names.find((name) => name !== label)!;
  return { source, label, split: { kind: 'hash', key, evalPercent: 20 } };
}

/** The pipeline file: the standard pipeline from ingest to push, every value a user may change in view. */
function pipelineSource(plan: DataPlan, model: string): string {
  const sourceLine =
    plan.source === undefined
      ? '// 2001 US flights (vega-datasets), shipped with Loom; point DATA at your own CSV or Parquet file.\nconst DATA = flightsParquetPath();'
      : plan.source.startsWith('/')
        ? `const DATA = ${JSON.stringify(plan.source)};`
        : `const DATA = fileURLToPath(new URL(${JSON.stringify(`./${plan.source}`)}, import.meta.url));`;
  const select = plan.select ? `\n      select: ${JSON.stringify(plan.select)},` : '';
  const where = plan.where ? `\n      where: ${JSON.stringify(plan.where)},` : '';
  const overrides = plan.timeColumn ? `, overrides: { ${JSON.stringify(plan.timeColumn)}: { analyzer: 'datetime' } }` : '';
  return `/**
 * The ${model} pipeline: ingest the data, check it against its schema, fit the feature transform,
 * train, evaluate against the registered champion, and register the model when it is better.
 * Run it with \`npx loom run pipeline.ts\`; \`npx loom components <name>\` lists every parameter.
 */
import { fileURLToPath } from 'node:url';
import {
  composeComponent,
  definePipeline,
  evaluateComponent,${plan.source === undefined ? '\n  flightsParquetPath,' : ''}
  ingestComponent,
  pushComponent,
  schemaComponent,
  statisticsComponent,
  trainComponent,
  transformComponent,
  validateComponent,
} from 'loom-mlops';

${sourceLine}
// The schema the first run infers is written here: review it, edit it, commit it.
const SCHEMA = fileURLToPath(new URL('./schemas/${model}.schema.json', import.meta.url));

export default definePipeline(${JSON.stringify(model)}, (p) => {
  const ingest = p.step('ingest', ingestComponent, {
    parameters: {
      source: DATA,${select}${where}
      split: ${JSON.stringify(plan.split)},
    },
  });
  const statistics = p.step('statistics', statisticsComponent, { inputs: { examples: ingest.outputs.examples } });
  const schema = p.step('schema', schemaComponent, { inputs: { statistics: statistics.outputs.statistics }, parameters: { path: SCHEMA } });
  const validate = p.step('validate', validateComponent, { inputs: { statistics: statistics.outputs.statistics, schema: schema.outputs.schema } });
  // Every other column is a feature${plan.timeColumn ? `; ${plan.timeColumn} becomes hour, weekday and month inside the served graph` : ''}.
  const transform = p.step('transform', transformComponent, {
    inputs: { examples: ingest.outputs.examples, schema: schema.outputs.schema },
    parameters: { labelColumn: ${JSON.stringify(plan.label)}${overrides} },
    after: [validate],
  });
  const train = p.step('train', trainComponent, {
    inputs: { transformedExamples: transform.outputs.transformedExamples, transformGraph: transform.outputs.transformGraph },
    parameters: { algorithm: 'logistic_regression', epochs: 20, seed: 7 },
  });
  const compose = p.step('compose', composeComponent, {
    inputs: { transformGraph: transform.outputs.transformGraph, model: train.outputs.model },
  });
  const evaluate = p.step('evaluate', evaluateComponent, {
    inputs: {
      model: compose.outputs.servingModel,
      examples: ingest.outputs.examples,
      baseline: p.alias(${JSON.stringify(model)}, 'champion', { unlessSameAs: compose.outputs.servingModel }),
    },
    // Better than chance, and not worse than the champion on the same rows.
    parameters: { thresholds: [{ metric: 'auc', value: { lowerBound: 0.5 }, change: { absolute: 0 } }] },
  });
  p.step('push', pushComponent, {
    inputs: { servingModel: compose.outputs.servingModel, evaluation: evaluate.outputs.evaluation, blessing: evaluate.outputs.blessing },
    parameters: { modelName: ${JSON.stringify(model)}, alias: 'champion' },
    when: { input: 'blessing', property: 'blessed', equals: true },
  });
});
`;
}

const SCHEMAS_README = (model: string) => `# Schemas

The first \`npx loom run pipeline.ts\` infers the data's schema and writes it here as
\`${model}.schema.json\`: column types, allowed values, value ranges and how much drift is tolerated.
Later runs validate every new span of data against it. Review it, tighten it, and commit it.
`;

function projectReadme(model: string, plan: DataPlan): string {
  return `# ${model}

A Loom project (\`loom-mlops\`): \`pipeline.ts\` trains a model that predicts
\`${plan.label}\`, evaluates it, and registers it as \`${model}@champion\` when it is better than the last one.

\`\`\`sh
npm install                        # package.json denies onnxruntime-node's CUDA download (allowScripts)
npx loom run pipeline.ts           # ingest, validate, transform, train, evaluate, push
npx loom serve ${model}@champion   # serve it: POST raw rows to /v2/models/${model}/infer
npx loom components                # every component and its parameters
\`\`\`

Loom keeps its records in \`.loom/\` (ignored by git); the schema in \`schemas/\` is yours to keep.
`;
}

async function updateGitignore(dir: string, result: InitResult): Promise<void> {
  const path = join(dir, '.gitignore');
  const existing = existsSync(path) ? await readFile(path, 'utf8') : '';
  const lines = new Set(existing.split(/\r?\n/).map((line) => line.trim()));
  const missing = ['.loom/', 'node_modules/'].filter((entry) => !lines.has(entry) && !lines.has(entry.slice(0, -1)));
  if (missing.length === 0) return void result.kept.push('.gitignore');
  await writeFile(path, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${missing.join('\n')}\n`);
  result.written.push('.gitignore');
}

async function updatePackageJson(dir: string, model: string, result: InitResult): Promise<void> {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) {
    const manifest = { name: model.toLowerCase(), version: '0.1.0', private: true, type: 'module', scripts: { pipeline: 'loom run pipeline.ts' }, ...INSTALL_SETTING };
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
    return void result.written.push('package.json');
  }
  const text = await readFile(path, 'utf8');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new LoomError('INVALID_ARGUMENT', `${path} is not valid JSON: ${(error as Error).message}`, { field: 'package.json', fix: 'fix the file, then run `loom init` again' });
  }
  const allowScripts = (manifest.allowScripts ?? {}) as Record<string, unknown>;
  if ('onnxruntime-node' in allowScripts) return void result.kept.push('package.json');
  manifest.allowScripts = { ...allowScripts, ...INSTALL_SETTING.allowScripts };
  const indent = /^\{\r?\n([ \t]+)/.exec(text)?.[1] ?? '  ';
  await writeFile(path, `${JSON.stringify(manifest, null, indent)}\n`);
  result.written.push('package.json');
}

/** A registered model name from a folder name: `My Project` becomes `My-Project`. */
function sanitizeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned || 'model';
}

function printNextSteps(result: InitResult): void {
  const lines = [`Loom project "${result.model}" in ${result.dir}`];
  for (const name of result.written) lines.push(`  wrote ${name}`);
  for (const name of result.kept) lines.push(`  kept  ${name} (it exists)`);
  lines.push('', 'next:', '  npm install loom-mlops     (or the tarball or git URL you got Loom from)', '  npx loom run pipeline.ts');
  process.stdout.write(`${lines.join('\n')}\n`);
}
