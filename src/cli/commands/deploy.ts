/**
 * `loom deploy set|ls|history|rollback`: how `loom serve` routes a model — the primary
 * version or alias, a canary with a traffic weight, a shadow, batching — recorded with
 * who and why; running servers pick changes up within their watch interval.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { SPLIT_MODES, type Deployment } from '../../registry/deployment-store.js';
import { parseOptions } from '../options.js';
import { formatTime, printJson, printTable } from '../output.js';
import { withProject } from '../project.js';
import { ACTOR_OPTION, who } from './models-changes.js';

const setOptions = z.object({
  version: z.coerce.number().int().min(1).optional(),
  alias: z.string().min(1).optional(),
  canary: z.string().min(1).optional(),
  weight: z.coerce.number().min(0).max(1).optional(),
  shadow: z.string().min(1).optional(),
  split: z.enum(SPLIT_MODES).optional(),
  maxBatchSize: z.coerce.number().int().min(1).optional(),
  maxBatchWaitUs: z.coerce.number().int().min(0).optional(),
  reason: z.string().optional(),
  actor: z.string().min(1).optional(),
  json: z.boolean().optional(),
});
const listOptions = z.object({ json: z.boolean().optional() });
const rollbackOptions = z.object({ reason: z.string().optional(), actor: z.string().min(1).optional(), json: z.boolean().optional() });

/** `4`, `@champion`, `champion` or `flights@4` → `flights@4` / `flights@champion`. */
export function qualifiedRef(model: string, ref: string): string {
  if (ref.includes('@') && !ref.startsWith('@')) return ref;
  return `${model}@${ref.replace(/^@/, '')}`;
}

function describe(deployment: Deployment): string[] {
  return [
    deployment.primary,
    deployment.canary ? `${deployment.canary.ref} (${Math.round(deployment.canary.weight * 1000) / 10}%, ${deployment.split})` : '',
    deployment.shadow ?? '',
  ];
}

export function registerDeployCommands(program: Command): void {
  const deploy = program.command('deploy').description('how `loom serve` routes each model: version or alias, canary, shadow, rollback');
  deploy
    .command('set')
    .description('make a new deployment of a model live (running servers switch within their watch interval)')
    .argument('<model>', 'registered model name')
    .option('--version <n>', 'serve this version')
    .option('--alias <alias>', 'serve whatever this alias points at (default champion), following its moves')
    .option('--canary <ref>', 'a second version or alias taking --weight of the traffic (4, @challenger or flights@4)')
    .option('--weight <w>', 'share of traffic for the canary, 0 to 1', '0.1')
    .option('--shadow <ref>', 'a version or alias that gets a copy of every request; its answers are logged, not returned')
    .option('--split <mode>', 'canary choice: hash (by request id, sticky) or random', 'hash')
    .option('--max-batch-size <rows>', 'micro-batch size for this model')
    .option('--max-batch-wait-us <us>', 'micro-batch wait for this model, in microseconds')
    .option('--reason <text>', 'why (recorded)')
    .option(...ACTOR_OPTION)
    .option('--json', 'print JSON')
    .action(async (model: string, raw: unknown) => {
      const options = parseOptions(setOptions, raw);
      if (options.version !== undefined && options.alias !== undefined) {
        throw new LoomError('INVALID_ARGUMENT', 'give --version or --alias, not both', { field: '--version', fix: 'drop one of them' });
      }
      await withProject(async (db) => {
        const primary = options.version !== undefined ? `${model}@${options.version}` : `${model}@${options.alias ?? 'champion'}`;
        const deployment = await db.deployments.setDeployment(
          {
            modelName: model,
            primary,
            canary: options.canary ? { ref: qualifiedRef(model, options.canary), weight: options.weight ?? 0.1 } : null,
            shadow: options.shadow ? qualifiedRef(model, options.shadow) : null,
            split: options.split,
            batch: { maxBatchSize: options.maxBatchSize, maxWaitMicros: options.maxBatchWaitUs },
          },
          who(db, options),
        );
        if (options.json) return printJson(deployment);
        process.stdout.write(`deployment #${deployment.id} of ${model} is live: ${describe(deployment).filter(Boolean).join(', ')}\n`);
      });
    });
  deploy
    .command('ls')
    .description('the live deployment of every model')
    .option('--json', 'print JSON')
    .action(async (raw: unknown) => {
      const options = parseOptions(listOptions, raw);
      await withProject(async (db) => {
        const items = await db.deployments.listDeployments();
        if (options.json) return printJson({ items });
        if (items.length === 0) return void process.stdout.write('no deployments: `loom serve` serves each champion; `loom deploy set <model> ...` adds a canary or shadow\n');
        printTable(['model', 'id', 'primary', 'canary', 'shadow', 'by', 'when', 'reason'], items.map((d) => [d.modelName, d.id, ...describe(d), d.actor, formatTime(d.createdAt), d.reason]));
      });
    });
  deploy
    .command('history')
    .description("a model's deployments, newest first")
    .argument('<model>', 'registered model name')
    .option('--json', 'print JSON')
    .action(async (model: string, raw: unknown) => {
      const options = parseOptions(listOptions, raw);
      await withProject(async (db) => {
        const items = await db.deployments.history(model);
        if (options.json) return printJson({ items });
        printTable(['id', 'primary', 'canary', 'shadow', 'replaces', 'by', 'when', 'reason'], items.map((d) => [d.id, ...describe(d), d.replacesId ?? '', d.actor, formatTime(d.createdAt), d.reason]));
      });
    });
  deploy
    .command('rollback')
    .description('go back to the deployment the live one replaced, in one step')
    .argument('<model>', 'registered model name')
    .option('--reason <text>', 'why (recorded)')
    .option(...ACTOR_OPTION)
    .option('--json', 'print JSON')
    .action(async (model: string, raw: unknown) => {
      const options = parseOptions(rollbackOptions, raw);
      await withProject(async (db) => {
        const deployment = await db.deployments.rollback(model, who(db, options));
        if (options.json) return printJson(deployment);
        process.stdout.write(`rolled back ${model}: deployment #${deployment.id} is live (${describe(deployment).filter(Boolean).join(', ')})\n`);
      });
    });
}
