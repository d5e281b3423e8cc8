/**
 * MLflow's proxied artifact service (`/api/2.0/mlflow-artifacts/artifacts`), which the
 * MLflow client uses for runs whose artifact URI is `mlflow-artifacts:/...`: PUT uploads
 * a file's bytes, GET downloads one, GET on the root with `?path=` lists a directory.
 * Files live under `<project artifacts>/tracking/`. Bodies are taken as raw streams
 * whatever their content type (a `.json` artifact is a file, not a request to parse).
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { LoomError } from '../../core/errors.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { LocalArtifactStore } from '../../store/local-artifact-store.js';
import { RunArtifactFiles } from '../../tracking/artifact-files.js';

export const MLFLOW_ARTIFACTS_PREFIX = '/api/2.0/mlflow-artifacts/artifacts';

/** Run artifacts sit beside the project's content-addressed artifact store. */
export function runArtifactFiles(artifacts: ArtifactStore): RunArtifactFiles {
  if (!(artifacts instanceof LocalArtifactStore)) {
    throw new LoomError('FAILED_PRECONDITION', 'run artifacts need a local artifact store', {
      fix: 'serve tracking from a project with a local artifact directory',
    });
  }
  return new RunArtifactFiles(join(artifacts.root, 'tracking'));
}

export const trackingArtifactRoutes: FastifyPluginAsync<{ files: RunArtifactFiles }> = async (app, { files }) => {
  // Encapsulated: only these routes take every body as a raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.put(`${MLFLOW_ARTIFACTS_PREFIX}/*`, async (request) => {
    const path = (request.params as { '*': string })['*'];
    await files.write(path, (request.body as Readable | undefined) ?? Buffer.alloc(0));
    return {};
  });
  app.get(`${MLFLOW_ARTIFACTS_PREFIX}/*`, async (request, reply) => {
    const { stream, size } = await files.read((request.params as { '*': string })['*']);
    return reply.header('content-type', 'application/octet-stream').header('content-length', size).send(stream);
  });
  app.get(MLFLOW_ARTIFACTS_PREFIX, async (request) => {
    const path = typeof (request.query as { path?: unknown }).path === 'string' ? (request.query as { path: string }).path : '';
    const listed = await files.list(path);
    return { files: listed.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.fileSize !== undefined ? { file_size: f.fileSize } : {}) })) };
  });
};
