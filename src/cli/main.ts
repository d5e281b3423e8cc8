/**
 * The `loom` command. Each subcommand lives in `commands/`; `commands/index.ts` lists them and
 * loads only the one a command line runs.
 *
 * Usage: `loom demo`, `loom run <pipeline file>`, `loom runs`, `loom lineage flights@champion`, `loom serve`.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_CODE } from '../core/errors.js';
import { commandsFor } from './commands/index.js';
import { endQuietlyOnClosedOutput, exitCodeLines, reportError } from './output.js';

/**
 * The `loom` program with the commands `args` (what follows `loom` on the command line) needs:
 * only the command it names, so that one command's start does not import every other's
 * dependencies; every command when `args` is left out or names none (`loom --help`).
 */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const program = new Command('loom')
    .description('Loom: data to a served, monitored model, with every step recorded')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    // `loom --version` only before a subcommand, so subcommands may take their own --version (`loom deploy set --version 3`).
    .enablePositionalOptions()
    .addHelpText('after', `\nExit codes:\n${exitCodeLines().map((line) => `  ${line}`).join('\n')}`)
    .exitOverride();
  // One at a time, in the table's order: `loom --help` lists the commands in that order.
  for (const entry of commandsFor(args)) (await entry.load())(program);
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
    // argv is process.argv: the node binary and the script come before what the user typed.
    await (await buildProgram(argv.slice(2))).parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has printed its own message (unknown option, --help) already. Its usage
    // errors are bad input, so they exit 2 like every other INVALID_ARGUMENT.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODE.INVALID_ARGUMENT;
    return reportError(error);
  }
}
