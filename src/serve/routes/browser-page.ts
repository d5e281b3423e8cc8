/**
 * The model in the browser: an example page that downloads the served model's composed
 * ONNX graph and scores flights with onnxruntime-web (WebAssembly), the very graph the
 * server runs, with the same float32 outputs bit for bit (Loom's exporters compute in
 * float64 and round once: src/onnx/float64.ts). Everything comes from this server: the
 * page, its script, onnxruntime-web's script and wasm from node_modules; no CDN, nothing
 * fetched from elsewhere.
 *
 *   GET /ui/score/                         the page (web/score/index.html), `?model=<name>` (default: the first served)
 *   GET /ui/score/score.js                 its script
 *   GET /ui/ort/<file>                     onnxruntime-web's files (ort.wasm.min.js, its .mjs loader and .wasm)
 *   GET /ui/models/{name}/model.onnx       the composed graph of the version being served now
 *   GET /ui/models/{name}/versions/{v}/model.onnx   the graph of a version this server holds
 *   GET /ui/models/{name}/signature.json   { name, version, signature }
 *
 * Usage: `await app.register(browserPageRoutes, { models, artifacts, defaultModel: 'flights' })`
 */
import { ServingModel } from '../../pipeline/artifact-types.js';
import { open, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from '../../auth/authorize.js';
import { LoomError } from '../../core/errors.js';
import type { ArtifactStore } from '../../store/artifact-store.js';
import type { ServedModels } from './v2.js';

export interface BrowserPageRoutesOptions {
  /** The models this server serves; the page gets whichever version `get(name)` answers now (so it follows swaps). */
  models: ServedModels;
  /** Where the served versions' files are (`model.onnx` in each version's artifact). */
  artifacts: ArtifactStore;
  /** The model the page opens without `?model=`; default none (the page then asks for one). */
  defaultModel?: string;
  /** The page's directory; default `web/score` of this checkout. */
  webDir?: string;
}

/**
 * onnxruntime-web's files the page needs: the wasm-only build (single-threaded, so no
 * cross-origin isolation). A Map, not an object literal: `constructor` or `__proto__` must
 * not find an inherited "file".
 */
const ORT_FILES = new Map<string, string>([
  ['ort.wasm.min.js', 'text/javascript; charset=utf-8'],
  ['ort-wasm-simd-threaded.mjs', 'text/javascript; charset=utf-8'],
  ['ort-wasm-simd-threaded.wasm', 'application/wasm'],
]);

const DEFAULT_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/score');

/** The directory holding onnxruntime-web's dist files, found through Node's resolver. */
export function onnxruntimeWebDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

export const browserPageRoutes: FastifyPluginAsync<BrowserPageRoutesOptions> = async (app, options) => {
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  const ortDir = onnxruntimeWebDir();
  // The page is small and read once; a missing file fails registration, not the first visitor.
  const page = (await readFile(join(webDir, 'index.html'), 'utf8')).replace(
    '<meta name="loom-default-model" content="">',
    `<meta name="loom-default-model" content="${escapeAttribute(options.defaultModel ?? '')}">`,
  );
  const script = await readFile(join(webDir, 'score.js'), 'utf8');

  const tags = ['browser'];
  const file = (summary: string, responseType: string) => ({ schema: { summary, tags, documented: { responseType } } });
  app.get('/ui/score', file('Redirects to the scoring page', 'text/html'), async (_request, reply) => reply.redirect('/ui/score/'));
  app.get('/ui/score/', file('The scoring page: predicts in the browser with onnxruntime-web', 'text/html'), async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get('/ui/score/score.js', file("The scoring page's script", 'text/javascript'), async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(script));

  app.get<{ Params: { file: string } }>('/ui/ort/:file', file("onnxruntime-web's files", 'application/octet-stream'), async (request, reply) => {
    const type = ORT_FILES.get(request.params.file);
    if (!type) {
      throw new LoomError('NOT_FOUND', `no file ${request.params.file} under /ui/ort/`, { fix: `the page loads ${[...ORT_FILES.keys()].join(', ')}` });
    }
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(await openFile(join(ortDir, request.params.file), `/ui/ort/${request.params.file}`));
  });

  // The graph is the model itself: whoever has it can predict with it at will.
  const sendGraph = async (request: FastifyRequest, reply: FastifyReply, name: string, version?: number) => {
    authorize(request.principal, 'predict', { model: name });
    const model = options.models.get(name, version);
    const dir = await options.artifacts.localPath(model.version.source);
    const file = await openFile(ServingModel.files.model(dir), `the graph of ${model.name} version ${model.version.version}`);
    return reply.type('application/octet-stream').header('x-model-version', String(model.version.version)).send(file);
  };
  app.get<{ Params: { name: string } }>('/ui/models/:name/model.onnx', file("The routed version's ONNX graph", 'application/octet-stream'), async (request, reply) => sendGraph(request, reply, request.params.name));
  // The page asks by version, the one signature.json named, so a swap between its two requests cannot mix versions.
  app.get<{ Params: { name: string; version: string } }>('/ui/models/:name/versions/:version/model.onnx', file("A version's ONNX graph", 'application/octet-stream'), async (request, reply) => {
    const version = Number(request.params.version);
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new LoomError('INVALID_ARGUMENT', `version "${request.params.version}" is not a version number`, { field: 'version' });
    }
    return sendGraph(request, reply, request.params.name, version);
  });

  app.get<{ Params: { name: string } }>('/ui/models/:name/signature.json', { schema: { summary: "The routed version's number and signature", tags } }, async (request) => {
    const model = options.models.get(request.params.name);
    return { name: model.name, version: model.version.version, signature: model.signature };
  });
};

/**
 * A stream of a file that is known to be open: opening first turns a missing file into a
 * NOT_FOUND for this request (an unopened stream's error event would have no listener and
 * take the process down), and Fastify handles the errors of a stream it sends.
 */
async function openFile(path: string, what: string) {
  const handle = await open(path, 'r').catch(() => {
    throw new LoomError('NOT_FOUND', `${what} is not available on this server`, { fix: 'check the file exists where the server looks for it' });
  });
  return handle.createReadStream();
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
