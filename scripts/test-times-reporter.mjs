// A node:test reporter that prints nothing and, when the run ends, records how long each test
// file took (its whole child process: start-up, hooks and tests) in .cache/loom-test-times.json,
// merged with the times already there, for test-order.mjs to start the longest files first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { readTimes, TIMES_CACHE } from './test-order.mjs';

// eslint-disable-next-line require-yield -- node runs an async generator as a reporter; this one prints nothing, so it never yields
export default async function* timesReporter(source) {
  const measured = {};
  for await (const event of source) {
    // The runner completes one test per file, named by the file's path, when its process ends.
    if (event.type === 'test:complete' && event.data.nesting === 0 && event.data.file && event.data.name === event.data.file) {
      measured[relative(process.cwd(), event.data.file)] = Math.round(event.data.details.duration_ms / 100) / 10;
    }
  }
  if (Object.keys(measured).length === 0) return;
  const seconds = { ...readTimes(TIMES_CACHE), ...measured };
  mkdirSync(dirname(TIMES_CACHE), { recursive: true });
  writeFileSync(TIMES_CACHE, `${JSON.stringify({ seconds }, null, 1)}\n`);
}
