/**
 * What Loom offers pipeline authors: the DSL, the components of the standard pipeline,
 * the artifact types they exchange, and the error type.
 *
 * Usage (a pipeline file run with `loom run pipeline.ts`):
 *   import { definePipeline, ingestComponent, statisticsComponent } from 'loom-mlops';
 *   export default definePipeline('my-pipeline', (p) => { ... });
 */
export { definePipeline, type Pipeline, type PipelineBuilder } from './pipeline/dsl.js';
export { defineComponent, type ComponentDef, type ExecutorContext, type InputArtifact } from './pipeline/component.js';
export * as artifactTypes from './pipeline/artifact-types.js';
export { ingestComponent } from './data/component.js';
export { statisticsComponent, schemaComponent, validateComponent } from './validate/components.js';
export { transformComponent } from './transform/component.js';
export { trainComponent } from './train/component.js';
export { composeComponent } from './train/compose-component.js';
export { evaluateComponent } from './evaluate/component.js';
export { pushComponent } from './registry/push-component.js';
export { runPipeline, type PipelineRunResult } from './pipeline/orchestrator.js';
export { openDatabase, type LoomDatabase } from './metadata/database.js';
export { LocalArtifactStore } from './store/local-artifact-store.js';
export { startModelServer } from './serve/server.js';
export { LoomError, type ErrorCode } from './core/errors.js';
