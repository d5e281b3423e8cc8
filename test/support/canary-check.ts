/**
 * One canary check for src/monitor/canary-stage-lease.test.ts, run as a child process, so two
 * checks race over connections of their own (on SQLite, one process shares one connection per file):
 *   node --import tsx test/support/canary-check.ts '<{"home","overrides","log","request"}>' <barrier dir> <name> <checks>
 * Opens the project, waits at the barrier so the checks start together, runs one check and
 * prints its answer as JSON: `{ decided: { outcome, executionId } }`, `{ inProgress: message }` or `{ error: { code, message } }`.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { asLoomError } from '../../src/core/errors.js';
import type { ConfigOverrides } from '../../src/platform/config.js';
import type { PredictionLogLocation } from '../../src/monitor/prediction-log-reader.js';
import { decideCanaryStage, type CanaryStageRequest } from '../../src/monitor/canary-stage.js';
import { readCodeVersion } from '../../src/pipeline/code-version.js';
import { openTestPlatform } from './databases.js';

const [input, barrierDir, name, checks] = process.argv.slice(2);
const { home, overrides, log, request } = JSON.parse(input!) as { home: string; overrides: ConfigOverrides; log: PredictionLogLocation; request: Omit<CanaryStageRequest, 'codeVersion'> };
const platform = await openTestPlatform(home, overrides);
try {
  writeFileSync(join(barrierDir!, name!), '');
  while (readdirSync(barrierDir!).length < Number(checks)) await sleep(2);
  let answer: object;
  try {
    const check = await decideCanaryStage(platform, log, { ...request, codeVersion: readCodeVersion(process.cwd()) });
    answer = 'inProgress' in check ? { inProgress: check.message } : { decided: { outcome: check.decision.outcome, executionId: check.executionId } };
  } catch (error) {
    const loom = asLoomError(error);
    answer = { error: { code: loom.code, message: loom.message } };
  }
  console.log(JSON.stringify(answer));
} finally {
  await platform.close();
}
