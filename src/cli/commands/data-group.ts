/** The `loom data` command group, shared by the files that add its subcommands (ls, show, validate). */
import type { Command } from 'commander';

export function dataCommandGroup(program: Command): Command {
  return (
    program.commands.find((command) => command.name() === 'data') ??
    program.command('data').description('dataset versions and spans: list, inspect, validate')
  );
}
