/**
 * The layer rules of .dependency-cruiser.cjs, run on a small source tree that breaks each
 * rule once and keeps the exceptions the rules allow: every break is reported, nothing else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './support/flights.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** path -> the files it imports (paths from the tree's root, without extension). */
const TREE: Record<string, string[]> = {
  'src/core/errors': [],
  'src/core/json': ['src/data/versions'], // core imports nothing of Loom
  'src/data/duckdb': ['src/core/errors'],
  'src/data/versions': ['src/data/duckdb', 'src/metadata/store'],
  'src/onnx/inspect': ['src/core/errors', 'src/data/duckdb'], // onnx knows nothing of data
  'src/metadata/store': ['src/registry/store'], // a lower store knows nothing of the registry
  'src/registry/store': ['src/metadata/store'],
  'src/pipeline/component': ['src/registry/store'], // allowed: the contract names the registry's interface
  'src/pipeline/artifact-types': ['src/pipeline/orchestrator'], // the contract does not import the runner
  'src/pipeline/orchestrator': ['src/pipeline/component', 'src/tracking/logger'],
  'src/tracking/logger': [],
  'src/train/component': ['src/pipeline/component', 'src/transform/graph', 'src/serve/server'], // lifecycle never imports serve
  'src/transform/graph': ['src/validate/schema'],
  'src/validate/schema': ['src/transform/fitted'], // transform <-> validate: a folder cycle
  'src/transform/fitted': [],
  'src/serve/server': ['src/train/component', 'src/queries/lineage'],
  'src/queries/lineage': ['src/registry/store'],
  'src/cli/main': ['src/serve/server', 'examples/flights/pipeline'], // src never imports examples
  'examples/flights/pipeline': [],
};

async function writeTree(root: string): Promise<void> {
  for (const [path, imports] of Object.entries(TREE)) {
    const file = join(root, `${path}.ts`);
    await mkdir(dirname(file), { recursive: true });
    const lines = imports.map((target, i) => {
      const relative = join(...Array(path.split('/').length - 1).fill('..'), `${target}.js`);
      return `import type * as m${i} from '${relative.startsWith('.') ? relative : `./${relative}`}';\nexport type T${i} = typeof m${i};`;
    });
    await writeFile(file, `${lines.join('\n')}\nexport const here = '${path}';\n`);
  }
  await writeFile(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
  await copyFile(join(repo, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
}

test('the layer rules report each broken rule and nothing the rules allow', async (t) => {
  const root = await makeTempDir(t.after.bind(t), 'loom-layers-');
  await writeTree(root);
  const result = spawnSync(join(repo, 'node_modules/.bin/depcruise'), ['--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'src'], { cwd: root, encoding: 'utf8' });
  assert.ok(result.stdout, result.stderr);
  const { summary } = JSON.parse(result.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  const found = new Set(summary.violations.map((v) => (v.rule.name === 'no-folder-cycles' ? `${v.rule.name}: ${[v.from, v.to].sort().join(' ')}` : `${v.rule.name}: ${v.from} -> ${v.to}`)));
  assert.deepEqual([...found].sort(), [
    'layer-core: src/core/json.ts -> src/data/versions.ts',
    'layer-lifecycle: src/train/component.ts -> src/serve/server.ts',
    'layer-lower-stores: src/metadata/store.ts -> src/registry/store.ts',
    'layer-onnx: src/onnx/inspect.ts -> src/data/duckdb.ts',
    'layer-pipeline-contract: src/pipeline/artifact-types.ts -> src/pipeline/orchestrator.ts',
    // An upward import that closes a loop is a folder cycle as well.
    'no-folder-cycles: src/core src/data',
    'no-folder-cycles: src/metadata src/registry',
    'no-folder-cycles: src/serve src/train',
    'no-folder-cycles: src/transform src/validate',
    'src-never-imports-examples: src/cli/main.ts -> examples/flights/pipeline.ts',
  ]);
});

test('only platform/, cli/ and server/ read process.env (the lint rule)', () => {
  const lint = (file: string) =>
    spawnSync(join(repo, 'node_modules/.bin/eslint'), ['--stdin', '--stdin-filename', file], { cwd: repo, input: 'export const home = process.env.LOOM_HOME;\n', encoding: 'utf8' });
  const refused = lint('src/train/settings.ts');
  assert.equal(refused.status, 1, refused.stderr);
  assert.match(refused.stdout, /no-restricted-properties/);
  for (const allowed of ['src/platform/settings.ts', 'src/cli/settings.ts', 'src/train/settings.test.ts']) {
    const result = lint(allowed);
    assert.equal(result.status, 0, `${allowed}: ${result.stdout}${result.stderr}`);
  }
});
