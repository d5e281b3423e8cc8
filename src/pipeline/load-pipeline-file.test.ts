import assert from 'node:assert/strict';
import { copyFile, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../test/support/cli.js';
import { makeTempDir } from '../../test/support/flights.js';

const repoFile = (path: string) => fileURLToPath(new URL(path, import.meta.url));

test('a pipeline outside the repo that imports loom-mlops: an unbuilt clone says to run `npm run build`, a missing package to install it', async (t) => {
  const dir = await realpath(await makeTempDir((fn) => t.after(fn)));
  // A fresh clone as a user's project sees it when linked or installed from its folder: package.json (exports -> dist/), no dist/.
  const clone = join(dir, 'loom-clone');
  await mkdir(clone);
  await copyFile(repoFile('../../package.json'), join(clone, 'package.json'));
  const linked = join(dir, 'linked');
  await mkdir(join(linked, 'node_modules'), { recursive: true });
  await symlink(clone, join(linked, 'node_modules', 'loom-mlops'), 'dir');
  const bare = join(dir, 'bare');
  await mkdir(bare);
  const pipeline = "import { definePipeline } from 'loom-mlops';\nexport default definePipeline('p', () => {});\n";
  for (const folder of [linked, bare]) await writeFile(join(folder, 'pipeline.ts'), pipeline);

  // Loaded from a process whose folder is outside the repo, as `loom run` in a user's project.
  const script = `const { loadPipelineFile } = await import(${JSON.stringify(repoFile('./load-pipeline-file.ts'))});
    for (const file of process.argv.slice(1)) {
      try { await loadPipelineFile(file); console.log('{"loaded":true}'); } catch (error) { console.log(JSON.stringify({ message: error.message, fix: error.fix })); }
    }`;
  const tsx = import.meta.resolve('tsx');
  const run = await runProcess(process.execPath, ['--import', tsx, '--input-type=module', '-e', script, join(linked, 'pipeline.ts'), join(bare, 'pipeline.ts')], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const [unbuilt, missing] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { message: string; fix: string });
  assert.match(unbuilt!.message, /dist/);
  assert.equal(unbuilt!.fix, `Loom's compiled JavaScript (dist/) is missing in ${clone}: run \`npm run build\` there (a git clone needs it once; an installed package ships it)`);
  assert.match(missing!.message, /loom-mlops/);
  assert.equal(missing!.fix, `install Loom where the pipeline lives: \`npm install loom-mlops\` in ${bare}`);
});
