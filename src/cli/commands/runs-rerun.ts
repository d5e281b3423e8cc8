/**
 * `loom runs rerun <run-id>`: runs a recorded pipeline run again from its pipeline file, through
 * the same code as the dashboard's "Run again" (`POST /api/loom/pipeline-runs/:runId/rerun`,
 * src/platform/rerun.ts): a write (editor and up) by the command's principal, recorded in the
 * audit log as `pipeline.rerun`. Unlike the API, the command waits for the new run to end and
 * prints it as `loom run` does.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { PipelineReruns } from '../../platform/rerun.js';
import { parseOptions } from '../options.js';
import { printJson } from '../output.js';
import { withProject } from '../project.js';
import { changeContext } from '../security.js';
import { printRunResult, runResultJson } from './run.js';

const rerunOptions = z.object({ json: z.boolean().optional() });

/** Adds `rerun` under `loom runs`. */
export function registerRerunCommand(runs: Command): void {
  runs
    .command('rerun')
    .description('run a pipeline run again from its recorded pipeline file (editor and up; audited)')
    .argument('<run-id>', 'a run id from `loom runs`')
    .option('--json', 'print the new run as JSON')
    .action(async (id: string, raw: unknown) => {
      const options = parseOptions(rerunOptions, raw);
      const result = await withProject(async (project) => {
        const reruns = new PipelineReruns(project, (message) => process.stderr.write(`${message}\n`));
        const started = await reruns.request(id, await changeContext(project));
        if (!options.json) process.stderr.write(`running ${id} again as ${started.runId}\n`);
        const finished = await started.finished;
        if (options.json) printJson({ ...runResultJson(finished), rerunOf: id });
        else printRunResult(finished);
        return finished;
      });
      if (result.failure) throw result.failure.error;
    });
}
