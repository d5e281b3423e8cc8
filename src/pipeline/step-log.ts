/**
 * Records a step's log lines in the metadata store as they come, for the dashboard's live
 * view of a running step: lines are buffered and written in batches, at most every
 * `intervalMs` while they come, and whatever is left when the step runner flushes (before it
 * records the outcome). Storing the log is a record of the step, not part of its work: a
 * write that fails never fails the step; the lines of that batch are lost, counted, and the
 * first failure is warned about once.
 *
 * Usage:
 *   const recorder = stepLogRecorder(metadata, execution.id, { warn });
 *   recorder.write('ingest: span 3');  …  await recorder.flush();
 */
import { asLoomError } from '../core/errors.js';
import type { MetadataStore } from '../metadata/store.js';
import type { NewExecutionLogLine } from '../metadata/execution-log.js';

export interface StepLogRecorder {
  /** Buffers a line (timed now); a write is scheduled if none is. */
  write(line: string): void;
  /** Writes what is buffered and waits for every write so far. */
  flush(): Promise<void>;
  /** Lines that could not be stored. */
  readonly lost: number;
}

export interface StepLogOptions {
  /** Longest a line waits in the buffer while lines come. Default 1,000 ms. */
  intervalMs?: number;
  /** Told once, on the first failed write. */
  warn: (message: string) => void;
}

export function stepLogRecorder(metadata: Pick<MetadataStore, 'appendExecutionLog'>, executionId: number, options: StepLogOptions): StepLogRecorder {
  const intervalMs = options.intervalMs ?? 1000;
  let buffer: NewExecutionLogLine[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Writes are chained, so batches land in the order their lines were logged.
  let written: Promise<void> = Promise.resolve();
  let lost = 0;

  const writeBuffered = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = buffer;
    buffer = [];
    if (batch.length > 0) {
      written = written.then(() =>
        metadata.appendExecutionLog(executionId, batch).catch((error: unknown) => {
          if (lost === 0) options.warn(`warning: the log of execution ${executionId} could not be stored (${asLoomError(error).message}); the step goes on`);
          lost += batch.length;
        }),
      );
    }
    return written;
  };

  return {
    write(line) {
      buffer.push({ line, loggedAt: Date.now() });
      if (!timer) {
        timer = setTimeout(() => void writeBuffered(), intervalMs);
        // A pending log write must not keep a finished process alive; `flush` writes the rest.
        timer.unref();
      }
    },
    flush: writeBuffered,
    get lost() {
      return lost;
    },
  };
}
