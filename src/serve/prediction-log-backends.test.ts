import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { makeTempDir } from '../../test/support/flights.js';

/** Runs `source` as an ES module in a child process; its output and exit code, or `code: null` when it had to be killed. */
function runModule(source: string, killAfterMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { cwd: new URL('../..', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Not a timing assertion: a process that never exits is the defect, and the test must end.
    const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a batch that cannot be sent to the worker (a value that cannot be cloned) is dropped and counted, and leaves no request pending: the process still exits', async (t) => {
  const dir = await makeTempDir(t.after.bind(t));
  const source = `
    import { PredictionLog } from './src/serve/prediction-log.ts';
    import { ParquetPredictionSink } from './src/serve/prediction-sinks.ts';
    const errors = [];
    const log = new PredictionLog(new ParquetPredictionSink(${JSON.stringify(dir)}), { onError: (error) => errors.push(error.name) });
    const record = (feature) => ({ requestId: 'r', modelName: 'm', modelVersion: 1, role: 'primary', protocol: 'v2', inputNames: ['x'], rows: { rowCount: 1, columns: [[feature]] }, outputs: [], latencyMs: 1, at: Date.now() });
    log.record(record(Symbol('not cloneable')));
    await log.flush();
    log.record(record('fine'));
    await log.flush();
    console.log(JSON.stringify({ written: log.written, dropped: log.dropped, errors }));
    // No close(): a log left open must not keep the process alive once nothing is pending.
  `;
  const { code, stdout, stderr } = await runModule(source, 60_000);
  assert.equal(code, 0, `the process exits on its own (killed: code null): ${stderr}`);
  assert.deepEqual(JSON.parse(stdout), { written: 1, dropped: 1, errors: ['DataCloneError'] });
});
