/**
 * Progress of long work. On a terminal it draws a bar with what, how far, the rate and
 * the time left; with `--json` or when stderr is not a terminal it stays silent.
 *
 * Usage: `const task = progress.start('reading flights', totalRows, 'rows'); task.advance(n); task.done();`
 */
import cliProgress from 'cli-progress';

export interface ProgressTask {
  advance(amount: number): void;
  done(): void;
}

export interface Progress {
  start(label: string, total: number, unit: string): ProgressTask;
}

const silentTask: ProgressTask = { advance() {}, done() {} };

/** Progress that shows nothing; for tests, `--json` and servers. */
export const silentProgress: Progress = { start: () => silentTask };

/** Bars on stderr when it is a terminal and `quiet` is not set; otherwise silent. */
export function terminalProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || !stream.isTTY) return silentProgress;
  return {
    start(label, total, unit) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label.padEnd(28)} {bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | eta {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      const startedAt = Date.now();
      let value = 0;
      bar.start(total, 0, { rate: '0' });
      return {
        advance(amount) {
          value += amount;
          const seconds = Math.max((Date.now() - startedAt) / 1000, 1e-3);
          bar.update(value, { rate: formatRate(value / seconds) });
        },
        done() {
          bar.update(total);
          bar.stop();
        },
      };
    },
  };
}

function formatRate(rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(1)}M`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)}k`;
  return rate.toFixed(0);
}
