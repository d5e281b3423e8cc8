/**
 * A cluster worker for `src/http/cluster-metrics.test.ts`: one counter at `LOOM_TEST_COUNT`,
 * shared with the primary unless `LOOM_TEST_SILENT=1` (a worker that listens but never answers
 * a collection, and says `test:asked` when asked for one); on `test:scrape` it scrapes the cluster as `/metrics` would and sends back the
 * exposition or the error's code and message.
 */
import { Counter, Registry } from 'prom-client';
import { isLoomError } from '../../src/core/errors.js';
import { clusterMetricsText, shareMetrics } from '../../src/http/cluster-metrics.js';

const registry = new Registry();
new Counter({ name: 'test_answered_total', help: 'requests this worker answered', registers: [registry] }).inc(Number(process.env.LOOM_TEST_COUNT));
const silent = process.env.LOOM_TEST_SILENT === '1';
if (!silent) shareMetrics(registry);

process.on('message', (message: { type?: string }) => {
  // A silent worker tells the test it was asked, so the test can kill it while the primary waits.
  if (silent && message?.type === 'loom:metrics-collect') process.send!({ type: 'test:asked' });
  if (message?.type !== 'test:scrape') return;
  clusterMetricsText().then(
    (body) => process.send!({ type: 'test:scraped', body }),
    (error: unknown) => process.send!({ type: 'test:scraped', code: isLoomError(error) ? error.code : 'THROWN', message: error instanceof Error ? error.message : String(error) }),
  );
});
// The test's primary going away ends this worker.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'test:ready' });
