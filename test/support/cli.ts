/** Runs the real `loom` command (or any program) in a child process, as a user would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const LOOM_BIN = fileURLToPath(new URL('../../bin/loom.js', import.meta.url));

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

export function runLoom(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return runProcess(process.execPath, [LOOM_BIN, ...args], { cwd: options.cwd, env: { ...process.env, LOOM_HOME: `${options.cwd}/.loom`, ...options.env } });
}
