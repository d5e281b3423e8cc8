/**
 * MLflow's proxied artifact service (`/api/2.0/mlflow-artifacts/artifacts`), which the
 * MLflow client uses for runs whose artifact URI is `mlflow-artifacts:/...`: PUT uploads
 * a file's bytes, GET downloads one, GET on the root with `?path=` lists a directory.
 * Files live under `<project artifacts>/tracking/`. Bodies are taken as raw streams
 * whatever their content type (a `.json` artifact is a file, not a request to parse), and
 * capped at the server's `uploadBytes` (413 beyond it, whether declared or streamed).
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { errorCodes, type FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import { LocalArtifactStore } from '../../store/local-artifact-store.js';
import { RunArtifactFiles } from '../../tracking/artifact-files.js';

export const MLFLOW_ARTIFACTS_PREFIX = '/api/2.0/mlflow-artifacts/artifacts';

/** The directory of a local artifact store; FAILED_PRECONDITION for any other kind. */
export function localArtifactsRoot(artifacts: ArtifactStore): string {
  if (!(artifacts instanceof LocalArtifactStore)) {
    throw new LoomError('FAILED_PRECONDITION', 'run artifacts need a local artifact store', {
      fix: 'serve tracking from a project with a local artifact directory',
    });
  }
  return artifacts.root;
}

/** Run artifacts sit beside the project's content-addressed artifact store. */
export function runArtifactFiles(artifacts: ArtifactStore): RunArtifactFiles {
  return new RunArtifactFiles(join(localArtifactsRoot(artifacts), 'tracking'));
}

/**
 * The upload's bytes, failing with Fastify's 413 error as soon as more than `limit` arrive
 * (or at once when the declared Content-Length says so), so no disk fills past the cap.
 * Lazy: nothing is read until the file is being written, so an error cannot fire unheard.
 */
function capped(body: Readable | undefined, declaredLength: string | undefined, limit: number): Readable | Buffer {
  if (declaredLength !== undefined && Number(declaredLength) > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
  if (!body) return Buffer.alloc(0);
  return Readable.from(
    (async function* () {
      let received = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
        yield chunk;
      }
    })(),
  );
}

/** `GET <prefix>?path=`: a directory to list (the route reads it leniently: anything else is the root). */
const listQuery = z.object({ path: z.string().optional() });

export const trackingArtifactRoutes: FastifyPluginAsync<{ files: RunArtifactFiles; uploadBytes: number }> = async (app, { files, uploadBytes }) => {
  const tags = ['mlflow-artifacts'];
  // Encapsulated: only these routes take every body as a raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.put(`${MLFLOW_ARTIFACTS_PREFIX}/*`, { schema: { summary: "Upload a file's bytes (any content type, up to the upload limit)", tags, documented: { bodyTypes: ['application/octet-stream'] } } }, async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    try {
      await files.write(path, capped(request.body as Readable | undefined, request.headers['content-length'], uploadBytes));
    } catch (error) {
      // The rest of a refused upload is not read: the connection closes after the answer.
      if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') reply.header('connection', 'close');
      throw error;
    }
    return {};
  });
  app.get(`${MLFLOW_ARTIFACTS_PREFIX}/*`, { schema: { summary: 'Download a file', tags, documented: { responseType: 'application/octet-stream' } } }, async (request, reply) => {
    const { stream, size } = await files.read((request.params as { '*': string })['*']);
    return reply.header('content-type', 'application/octet-stream').header('content-length', size).send(stream);
  });
  app.get(MLFLOW_ARTIFACTS_PREFIX, { schema: { summary: 'List a directory', tags, documented: { querystring: listQuery } } }, async (request) => {
    const path = typeof (request.query as { path?: unknown }).path === 'string' ? (request.query as { path: string }).path : '';
    const listed = await files.list(path);
    return { files: listed.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.fileSize !== undefined ? { file_size: f.fileSize } : {}) })) };
  });
};
