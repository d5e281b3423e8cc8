/** Runs the real `loom` command (or any program) in a child process, as a user would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LOOM_BIN = fileURLToPath(new URL('../../bin/loom.js', import.meta.url));

/**
 * The compiled CLI's launcher, used when `npm test` found dist/ no older than the sources and set
 * LOOM_TEST_COMPILED_CLI (in CI, `npm ci` has just built it). A command then starts in about
 * half the CPU time of bin/loom.js, which compiles the TypeScript sources through tsx at every
 * start. Without it (a test file run on its own) the sources run, as before.
 */
const COMPILED_LOOM = process.env.LOOM_TEST_COMPILED_CLI ? fileURLToPath(new URL('./compiled-loom.mjs', import.meta.url)) : undefined;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end without blocking the event loop (a server under test may live in this process). */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

interface LoomOptions {
  cwd: string;
  env?: Record<string, string>;
}

function runEntry(entry: string, args: string[], options: LoomOptions): Promise<CliResult> {
  return runProcess(process.execPath, [entry, ...args], { cwd: options.cwd, env: { ...process.env, LOOM_HOME: `${options.cwd}/.loom`, ...options.env } });
}

export function runLoom(args: string[], options: LoomOptions): Promise<CliResult> {
  return runEntry(LOOM_BIN, args, options);
}

/**
 * Runs `loom` as runLoom does, from the compiled package when `npm test` provides it. For commands
 * that load nothing from Loom's sources: a pipeline file importing `src/` or a project from
 * `loom init` (whose pipeline imports `loom-mlops`, which only the clone's tsx maps to the
 * sources) needs runLoom, so that one copy of Loom runs.
 */
export function runCompiledLoom(args: string[], options: LoomOptions): Promise<CliResult> {
  return runEntry(COMPILED_LOOM ?? LOOM_BIN, args, options);
}
