/**
 * Every `loom` command, in the order `loom --help` lists them, each with the loader of the
 * module that registers it. A command's module (and with it DuckDB, ONNX Runtime, Fastify,
 * Kysely, ...) is imported only when that command runs: `main.ts` loads the one entry the
 * command line names, so a `loom` start costs the command it runs, not all of them.
 *
 * Usage: `for (const entry of COMMANDS) (await entry.load())(program)` builds the whole program.
 */
import type { Command } from 'commander';

/** Adds a command (with its subcommands, options and help) to the `loom` program. */
export type RegisterCommand = (program: Command) => void;

/** One top-level command of `loom`: the names it adds, and how to load what registers them. */
export interface CommandEntry {
  /** The top-level command names the entry registers (`run` and `runs` come from one module). */
  readonly names: readonly string[];
  readonly load: () => Promise<RegisterCommand>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['demo'], load: async () => (await import('./demo.js')).registerDemoCommand },
  {
    names: ['data'],
    load: async () => {
      // Sequential imports: modules evaluate in the same order as when every command was imported at start.
      const data = await import('./data.js');
      const validate = await import('./data-validate.js');
      return (program) => {
        data.registerDataCommands(program);
        validate.registerDataValidateCommand(program);
      };
    },
  },
  { names: ['run', 'runs'], load: async () => (await import('./run.js')).registerRunCommands },
  { names: ['evaluate'], load: async () => (await import('./evaluate.js')).registerEvaluateCommand },
  { names: ['lineage'], load: async () => (await import('./lineage.js')).registerLineageCommand },
  { names: ['models'], load: async () => (await import('./models.js')).registerModelCommands },
  {
    names: ['monitor'],
    load: async () => {
      const { registerMonitorCommands } = await import('./monitor.js');
      const { registerMonitorQualityCommand } = await import('./monitor-quality.js');
      const { registerMonitorLabelsCommand } = await import('./monitor-labels.js');
      const { registerMonitorAlertsCommand } = await import('./monitor-alerts.js');
      const { registerMonitorRetentionCommand } = await import('./monitor-retention.js');
      return (program) => {
        const monitor = registerMonitorCommands(program);
        registerMonitorQualityCommand(monitor);
        registerMonitorLabelsCommand(monitor);
        registerMonitorAlertsCommand(monitor);
        registerMonitorRetentionCommand(monitor);
      };
    },
  },
  { names: ['predict'], load: async () => (await import('./predict.js')).registerPredictCommand },
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServeCommand },
  { names: ['deploy'], load: async () => (await import('./deploy.js')).registerDeployCommands },
  { names: ['server'], load: async () => (await import('./server.js')).registerServerCommand },
  { names: ['track'], load: async () => (await import('./track.js')).registerTrackCommands },
  { names: ['train'], load: async () => (await import('./train.js')).registerTrainCommand },
  { names: ['tune'], load: async () => (await import('./tune.js')).registerTuneCommand },
  { names: ['init'], load: async () => (await import('./init.js')).registerInitCommand },
  { names: ['components'], load: async () => (await import('./components.js')).registerComponentsCommand },
  { names: ['token'], load: async () => (await import('./token.js')).registerTokenCommands },
  { names: ['login'], load: async () => (await import('./login.js')).registerLoginCommand },
  { names: ['audit'], load: async () => (await import('./audit.js')).registerAuditCommands },
];

/**
 * The entries a command line needs (`args`: what follows `loom`): the entry of the command it
 * names, none for a bare `loom --version`, and every entry otherwise, since `loom --help`,
 * `loom help <cmd>` and a mistyped name (answered with the nearest names) list them all.
 */
export function commandsFor(args?: readonly string[]): readonly CommandEntry[] {
  if (args === undefined) return COMMANDS;
  const [first] = args;
  const named = COMMANDS.find((entry) => first !== undefined && entry.names.includes(first));
  if (named) return [named];
  if (args.length === 1 && (first === '--version' || first === '-V')) return [];
  return COMMANDS;
}
