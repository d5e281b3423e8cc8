/**
 * How commands print: tables for people, JSON with `--json`, errors as one clear
 * message with the fix (never a stack trace), progress only on a terminal.
 */
import { EXIT_CODE, asLoomError } from '../core/errors.js';
import { terminalProgress, type Progress } from '../core/progress.js';
import { isDebug } from '../platform/config.js';

export interface OutputOptions {
  json?: boolean;
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
