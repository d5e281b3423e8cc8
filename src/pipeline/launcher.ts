/**
 * The launcher seam: the step runner hands a launcher a component and a plain-data
 * context (inputs and outputs by path, typed properties, JSON parameters, run ids,
 * checkpoint dirs); the launcher binds the services where the step runs and calls the
 * executor. `inProcessLauncher` runs it in this process; a worker queue or a cluster is
 * another `Launcher` that ships the context and finds the component by name there.
 *
 * Usage: `const launcher = inProcessLauncher({ registry, artifacts, tracking, mlflowServer: () => startPlatformServer(...) })`
 */
import type { Progress } from '../core/progress.js';
import type { RegistryStore } from '../registry/store.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { StepTrackingLogger, type StepRunIdentity } from '../tracking/logger.js';
import type { TrackingStore } from '../tracking/store.js';
import type { ArtifactTypeDef } from './artifact-types.js';
import type { ComponentDef, ExecutorContext, ExecutorResult, ExecutorServices, InputDef } from './component.js';

/** A step context as a launcher sees it: JSON all through. */
export type PlainStepContext = ExecutorContext<Record<string, InputDef>, Record<string, ArtifactTypeDef>, unknown>;

export interface LaunchRequest {
  component: ComponentDef;
  context: PlainStepContext;
  /** How to name the attempt's tracking run, created on the executor's first write. */
  tracking: StepRunIdentity;
  /** Observers in the caller's process: progress bars and log lines. */
  progress: Progress;
  log(message: string): void;
}

export interface Launcher {
  /** Runs one attempt of a step; rejects with the executor's error. */
  launch(request: LaunchRequest): Promise<ExecutorResult<Record<string, ArtifactTypeDef>>>;
}

/** A platform API on loopback that an MLflow client can log to; started per attempt, on first use. */
export type MlflowServerFactory = () => Promise<{ url: string; close(): Promise<void> }>;

export interface InProcessServices {
  registry: RegistryStore;
  artifacts: ArtifactStore;
  /** Where executors' live metrics go; without it they get no tracking logger. */
  tracking?: TrackingStore;
  /** Supplied by the entry point (the CLI starts the platform API); without it executors get no MLflow endpoint. */
  mlflowServer?: MlflowServerFactory;
}

/** Runs executors in this process, binding the given stores. */
export function inProcessLauncher(services: InProcessServices): Launcher {
  return {
    async launch(request) {
      const tracking = services.tracking && new StepTrackingLogger(services.tracking, request.tracking);
      const endpoint = tracking && services.mlflowServer ? lazyEndpoint(services.mlflowServer, tracking) : undefined;
      const bound: ExecutorServices = {
        registry: services.registry,
        artifacts: services.artifacts,
        progress: request.progress,
        log: request.log,
        ...(tracking ? { tracking } : {}),
        ...(endpoint ? { mlflowEndpoint: endpoint.start } : {}),
      };
      try {
        const result = await request.component.execute(request.context as never, bound);
        await tracking?.end('FINISHED');
        return result;
      } catch (error) {
        // A failure to close the tracking run must not hide the executor's own error.
        await tracking?.end('FAILED').catch(() => undefined);
        throw error;
      } finally {
        await endpoint?.stop().catch(() => undefined);
      }
    },
  };
}

function lazyEndpoint(factory: MlflowServerFactory, tracking: StepTrackingLogger) {
  let server: ReturnType<MlflowServerFactory> | undefined;
  return {
    start: async () => {
      server ??= factory().catch((error: unknown) => {
        server = undefined;
        throw error;
      });
      return { uri: (await server).url, runId: await tracking.ensureRun() };
    },
    stop: async () => {
      if (server) await (await server).close();
    },
  };
}
