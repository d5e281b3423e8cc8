/**
 * The `loom` command. Each subcommand lives in `commands/` and registers itself here.
 *
 * Usage: `loom demo`, `loom run <pipeline file>`, `loom runs`, `loom lineage flights@champion`, `loom serve`.
 */
import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './commands/audit.js';
import { EXIT_CODE } from '../core/errors.js';
import { registerComponentsCommand } from './commands/components.js';
import { registerDataCommands } from './commands/data.js';
import { registerDataValidateCommand } from './commands/data-validate.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvaluateCommand } from './commands/evaluate.js';
import { registerInitCommand } from './commands/init.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerLineageCommand } from './commands/lineage.js';
import { registerLoginCommand } from './commands/login.js';
import { registerModelCommands } from './commands/models.js';
import { registerMonitorCommands } from './commands/monitor.js';
import { registerMonitorAlertsCommand } from './commands/monitor-alerts.js';
import { registerMonitorLabelsCommand } from './commands/monitor-labels.js';
import { registerMonitorQualityCommand } from './commands/monitor-quality.js';
import { registerMonitorRetentionCommand } from './commands/monitor-retention.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerRunCommands } from './commands/run.js';
import { registerServeCommand } from './commands/serve.js';
import { registerServerCommand } from './commands/server.js';
import { registerTokenCommands } from './commands/token.js';
import { registerTrackCommands } from './commands/track.js';
import { registerTrainCommand } from './commands/train.js';
import { registerTuneCommand } from './commands/tune.js';
import { endQuietlyOnClosedOutput, exitCodeLines, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('loom')
    .description('Loom: data to a served, monitored model, with every step recorded')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    // `loom --version` only before a subcommand, so subcommands may take their own --version (`loom deploy set --version 3`).
    .enablePositionalOptions()
    .addHelpText('after', `\nExit codes:\n${exitCodeLines().map((line) => `  ${line}`).join('\n')}`)
    .exitOverride();
  registerDemoCommand(program);
  registerDataCommands(program);
  registerDataValidateCommand(program);
  registerRunCommands(program);
  registerEvaluateCommand(program);
  registerLineageCommand(program);
  registerModelCommands(program);
  const monitor = registerMonitorCommands(program);
  registerMonitorQualityCommand(monitor);
  registerMonitorLabelsCommand(monitor);
  registerMonitorAlertsCommand(monitor);
  registerMonitorRetentionCommand(monitor);
  registerPredictCommand(program);
  registerServeCommand(program);
  registerDeployCommands(program);
  registerServerCommand(program);
  registerTrackCommands(program);
  registerTrainCommand(program);
  registerTuneCommand(program);
  registerInitCommand(program);
  registerComponentsCommand(program);
  registerTokenCommands(program);
  registerLoginCommand(program);
  registerAuditCommands(program);
  for (const command of program.commands) inheritExitOverride(command);
  return program;
}

function inheritExitOverride(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) inheritExitOverride(sub);
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedOutput();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has printed its own message (unknown option, --help) already. Its usage
    // errors are bad input, so they exit 2 like every other INVALID_ARGUMENT.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODE.INVALID_ARGUMENT;
    return reportError(error);
  }
}
