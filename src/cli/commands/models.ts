/** `loom models ls`, `loom models versions <name>`: what the registry holds. */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';

const jsonOnly = z.object({ json: z.boolean().optional() });

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('registered models, their versions and aliases');
  models
    .command('ls')
    .description('list registered models with their aliases')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async ({ db }) => {
        const page = await db.registry.listRegisteredModels({ pageSize: 1000 });
        if (options.json) return printJson(page);
        if (page.items.length === 0) return void process.stdout.write('no registered models yet: `loom demo` registers one\n');
        printTable(['model', 'latest', 'aliases', 'updated'], page.items.map((m) => [m.name, m.latestVersion ?? '', Object.entries(m.aliases).map(([a, v]) => `${a}=${v}`).join(' '), formatTime(m.updatedAt)]));
      });
    });
  models
    .command('versions')
    .description("list a model's versions with their metrics")
    .argument('<name>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (name: string, raw: unknown) => {
      const options = parseOptions(jsonOnly, raw);
      await withProject(async ({ db }) => {
        const model = await db.registry.getRegisteredModel(name);
        if (!model) throw new LoomError('NOT_FOUND', `no registered model named "${name}"`, { fix: 'list models with `loom models ls`' });
        const page = await db.registry.listModelVersions(name, { pageSize: 1000 });
        if (options.json) return printJson(page);
        const aliasesOf = (v: number) => Object.entries(model.aliases).filter(([, version]) => version === v).map(([a]) => a).join(' ');
        printTable(['version', 'status', 'aliases', 'metrics', 'created', 'run'], page.items.map((v) => [
          v.version, v.status, aliasesOf(v.version),
          Object.entries(v.metrics).map(([k, m]) => `${k}=${m.toFixed(4)}`).join(' '),
          formatTime(v.createdAt), v.runId ?? '',
        ]));
      });
    });
}
