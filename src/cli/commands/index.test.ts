// The command table loads one command's module for that command's start: each entry must
// register exactly the names it claims, and a program built for one command must show the
// same help (options, arguments, subcommands) as the program with every command.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../main.js';
import { COMMANDS, commandsFor } from './index.js';

/** Every command below `command`, by its path (`models alias set`), with its help text. */
function helpByPath(command: Command, prefix: string[] = []): Map<string, string> {
  const help = new Map<string, string>();
  for (const sub of command.commands) {
    const path = [...prefix, sub.name()];
    help.set(path.join(' '), sub.helpInformation());
    for (const [key, text] of helpByPath(sub, path)) help.set(key, text);
  }
  return help;
}

test('the whole program registers each command of the table once, in the order of the table', async () => {
  const program = await buildProgram();
  assert.deepEqual(
    program.commands.map((command) => command.name()),
    COMMANDS.flatMap((entry) => entry.names),
  );
});

test("a program built for one command registers that entry's names alone, with the same help as the whole program", async () => {
  const whole = helpByPath(await buildProgram());
  for (const entry of COMMANDS) {
    const program = await buildProgram([entry.names[0]!, '--help']);
    assert.deepEqual(program.commands.map((command) => command.name()), entry.names, `the entry of ${entry.names.join(', ')}`);
    const alone = helpByPath(program);
    assert.ok(alone.size >= entry.names.length);
    for (const [path, text] of alone) assert.equal(text, whole.get(path), `loom ${path} --help`);
  }
});

test('the command line chooses what is loaded: the named command, nothing for --version, all for help and unknown names', () => {
  const run = COMMANDS.find((entry) => entry.names.includes('runs'));
  assert.deepEqual(commandsFor(['runs', 'show', 'abc', '--json']), [run]);
  assert.deepEqual(commandsFor(['run', '--help']), [run]);
  assert.deepEqual(commandsFor(['--version']), []);
  assert.deepEqual(commandsFor(['-V']), []);
  for (const args of [[], ['--help'], ['help', 'runs'], ['--help', 'runs'], ['rnus'], ['--version', 'runs']]) {
    assert.equal(commandsFor(args), COMMANDS, args.join(' '));
  }
});
