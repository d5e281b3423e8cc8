/**
 * How commands print: tables for people, JSON with `--json`, errors as one clear
 * message with the fix (never a stack trace), progress only on a terminal.
 */
import { EXIT_CODE, asLoomError, type ErrorCode } from '../core/errors.js';
import { terminalProgress, type Progress } from '../core/progress.js';
import { isDebug } from '../platform/debug.js';

export interface OutputOptions {
  json?: boolean;
}

/**
 * A reader that stops early (`loom lineage … | head`) closes the pipe: the next write fails
 * with EPIPE, emitted as an 'error' event that would crash the process with a stack trace.
 * Everything the reader wanted has been written, so the command ends quietly, as Unix tools do.
 * Called once by `main()` before any command runs.
 */
export function endQuietlyOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(onOutputError)) continue;
    stream.on('error', onOutputError);
  }
}

function onOutputError(error: NodeJS.ErrnoException): void {
  // exit, not exitCode: pending writes to a closed pipe would fail again on the way out.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A left-aligned text table; cells are stringified, missing ones blank. */
export function formatTable(headers: string[], rows: unknown[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells.map((row) => row.map((cell, column) => (cell ?? '').padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

export function printTable(headers: string[], rows: unknown[][]): void {
  process.stdout.write(`${formatTable(headers, rows)}\n`);
}

/** Progress bars on stderr for people; nothing with --json or off a terminal. */
export function progressFor(options: OutputOptions): Progress {
  return terminalProgress({ quiet: options.json === true });
}

/** Status lines (step started, finished) on stderr, silent with --json. */
export function statusLogger(options: OutputOptions): (line: string) => void {
  return options.json ? () => {} : (line) => process.stderr.write(`${line}\n`);
}

/** What each exit code means, as `loom --help` and the README's Commands section list them. */
const EXIT_MEANING: Record<ErrorCode, string> = {
  INTERNAL: 'an unexpected failure (a bug: run again with LOOM_DEBUG=1 for the stack trace)',
  INVALID_ARGUMENT: 'bad input: an unknown command or option, a bad option value, a bad pipeline or data file',
  NOT_FOUND: 'not found: a model, version, alias, run, dataset version or file',
  ALREADY_EXISTS: 'already exists: a name or version that is taken',
  FAILED_PRECONDITION: 'failed precondition: a data anomaly, a missing approval, a model that is not blessed',
  RESOURCE_EXHAUSTED: 'resource exhausted: more memory than the limit allows, a request too large',
  UNAVAILABLE: 'unavailable: a busy port, a database or service that cannot be reached',
  UNAUTHENTICATED: 'unauthenticated: no token, or one that is unknown, expired or revoked',
  PERMISSION_DENIED: 'permission denied: the token\'s role or grants do not allow the change',
};

/** The exit codes, one per line, in order: `0  success…`, `1  an unexpected failure…`, … */
export function exitCodeLines(): string[] {
  const codes = (Object.keys(EXIT_CODE) as ErrorCode[]).sort((a, b) => EXIT_CODE[a] - EXIT_CODE[b]);
  return ['0  success (also when the reader of the output, such as `head`, stops early)', ...codes.map((code) => `${EXIT_CODE[code]}  ${EXIT_MEANING[code]}`)];
}

/** Prints an error the way a person can act on it and returns the exit code. */
export function reportError(error: unknown): number {
  const loomError = asLoomError(error);
  process.stderr.write(`error: ${loomError.describe()}\n`);
  if (loomError.code === 'INTERNAL' && isDebug() && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return EXIT_CODE[loomError.code];
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function formatTime(epochMs: number | null | undefined): string {
  return epochMs ? new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19) : '';
}
