/**
 * The CLI's step runner over a project's stores: executors run in this process, and a
 * custom trainer that logs with an MLflow client gets the platform API on loopback. The
 * entry point supplies that server, so the pipeline layer never imports it.
 *
 * Usage: `const runner = projectStepRunner(project); await runPipeline(pipeline, { runner, codeVersion });`
 */
import { createStepRunner, type StepRunner } from '../pipeline/step-runner.js';
import { startPlatformServer } from '../server/server.js';
import type { Project } from './project.js';

export function projectStepRunner(project: Project): StepRunner {
  return createStepRunner({
    metadata: project.metadata,
    registry: project.registry,
    tracking: project.tracking,
    artifacts: project.artifacts,
    mlflowServer: () => startPlatformServer({ port: 0, db: project, artifacts: project.artifacts }),
  });
}
