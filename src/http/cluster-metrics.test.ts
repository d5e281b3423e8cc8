import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { answerMetricsRequests } from './cluster-metrics.js';

const WORKER = fileURLToPath(new URL('../../test/support/metrics-worker.ts', import.meta.url));

interface Scraped {
  body?: string;
  code?: string;
  message?: string;
}

/** Asks `worker` to scrape the cluster, as its `/metrics` route would. */
async function scrape(worker: Worker): Promise<Scraped> {
  const answer = new Promise<Scraped>((resolve) => {
    const onMessage = (message: Scraped & { type?: string }) => {
      if (message?.type !== 'test:scraped') return;
      worker.off('message', onMessage);
      resolve(message);
    };
    worker.on('message', onMessage);
  });
  worker.send({ type: 'test:scrape' });
  return answer;
}

test('a scrape in any worker sums every worker; a worker that dies or never answers makes it UNAVAILABLE naming it, never a hang', async (t) => {
  cluster.setupPrimary({ exec: WORKER, execArgv: ['--import', 'tsx'] });
  // As runPrimary keeps it: workers that have said they listen, until they exit.
  const listening = new Set<Worker>();
  const warnings: string[] = [];
  const stop = answerMetricsRequests(() => listening, (message) => warnings.push(message), 1500);
  const onExit = (worker: Worker) => listening.delete(worker);
  cluster.on('exit', onExit);
  t.after(() => {
    stop();
    cluster.off('exit', onExit);
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  });
  const start = async (env: Record<string, string>): Promise<Worker> => {
    const worker = cluster.fork(env);
    const [message] = (await once(worker, 'message')) as [{ type?: string }];
    assert.equal(message.type, 'test:ready');
    listening.add(worker);
    return worker;
  };

  const a = await start({ LOOM_TEST_COUNT: '3' });
  const b = await start({ LOOM_TEST_COUNT: '4' });
  for (const worker of [a, b]) assert.match((await scrape(worker)).body ?? '', /^test_answered_total 7$/m);

  // A worker that listens but never answers: the scrape is refused once the primary's wait is over.
  const silent = await start({ LOOM_TEST_COUNT: '5', LOOM_TEST_SILENT: '1' });
  const refused = await scrape(a);
  assert.equal(refused.code, 'UNAVAILABLE', refused.message);
  assert.match(refused.message ?? '', new RegExp(`worker ${silent.process.pid} \\(no answer within 1500 ms\\)`));

  // It dies while a scrape waits for it: the scrape settles at its death, not at the wait's end.
  const asked = once(silent, 'message');
  const pending = scrape(b);
  assert.equal(((await asked) as [{ type?: string }])[0].type, 'test:asked');
  silent.process.kill('SIGKILL');
  const lost = await pending;
  assert.equal(lost.code, 'UNAVAILABLE', lost.message);
  assert.match(lost.message ?? '', new RegExp(`worker ${silent.process.pid} \\(exited\\)`));

  // Once it is gone, the survivors' sum again; the primary (this process) is still here to say so.
  if (listening.has(silent)) await once(cluster, 'exit');
  assert.match((await scrape(a)).body ?? '', /^test_answered_total 7$/m);
  assert.deepEqual(warnings, []);
});
