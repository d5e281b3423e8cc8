/**
 * Where a project's files live: the one place that decides it. Everything sits in the
 * project's home folder (`./.loom`, or LOOM_HOME), unless the config moves the database or
 * the artifact store elsewhere.
 *
 *   <home>/loom.db            the embedded SQLite database (unless the database is PostgreSQL)
 *   <home>/artifacts/         the content-addressed artifact store (unless `artifacts` says otherwise)
 *   <artifacts>/tracking/     MLflow run artifacts, beside the artifact store
 *   <home>/checkpoints/<key>  training checkpoints of a step, by its cache key
 *   <home>/predictions/       the online server's prediction log as Parquet (SQLite projects)
 *   <home>/schemas/           schemas a pipeline infers once and then keeps
 */
import { join } from 'node:path';

export interface ProjectLayout {
  /** The project's home folder. */
  home: string;
  /** The default SQLite database file. */
  database: string;
  /** The local artifact store's root. */
  artifacts: string;
  /** MLflow run artifacts (`mlflow-artifacts:` URIs), `<artifacts>/tracking`. */
  runArtifacts: string;
  /** Step checkpoints, `<checkpoints>/<step cache key>` (`loom run`, `loom train --resume`). */
  checkpoints: string;
  /** The Parquet prediction log of `loom serve`. */
  predictions: string;
  /** Schemas kept by pipelines (`<schemas>/<model>.schema.json`). */
  schemas: string;
}

/** The layout of a project at `home`, with its artifact store at `artifacts` (default `<home>/artifacts`). */
export function projectLayout(home: string, artifacts = join(home, 'artifacts')): ProjectLayout {
  return {
    home,
    database: join(home, 'loom.db'),
    artifacts,
    runArtifacts: join(artifacts, 'tracking'),
    checkpoints: join(home, 'checkpoints'),
    predictions: join(home, 'predictions'),
    schemas: join(home, 'schemas'),
  };
}
