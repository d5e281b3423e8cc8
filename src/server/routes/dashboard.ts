/**
 * The dashboard's static files (web/dashboard, built by `npm run build` into web/dist/dashboard)
 * served at `/` by @fastify/static, with the single-page app's own URLs (`/models/flights`,
 * `/pipelines/<run>`) answered with its index.html so a shared or reloaded link opens the same
 * view. Other unknown paths keep the API's 404. The files pass the same Host check as the API
 * but need no credentials (`isDashboardFile`): they hold no data, and the app they load asks
 * for a token to read any; the data under /api stays behind the principal check.
 *
 * Usage: `await app.register(dashboardRoutes, { root: DASHBOARD_DIR })` (done by `buildPlatformApp`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { LoomError } from '../../core/errors.js';

/** Where the build puts the dashboard: the same relative place from src/ (the clone) and dist/ (the package). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../web/dist/dashboard/', import.meta.url));

/** The dashboard's top-level views: the URLs the browser may open directly. */
export const DASHBOARD_VIEWS = ['experiments', 'models', 'pipelines', 'datasets', 'deployments', 'monitoring'] as const;

const VIEW_OR_FILE = new RegExp(`^/(|index\\.html|assets/[\\w.-]+|(${DASHBOARD_VIEWS.join('|')})(/[^?#]*)?)$`);

/** Whether a request URL is one of the dashboard's files or view URLs (the app shell), which load without a token. */
export function isDashboardFile(url: string): boolean {
  const path = url.split('?')[0]!;
  return VIEW_OR_FILE.test(path) && !path.includes('..');
}

export interface DashboardOptions {
  /** The built dashboard (its index.html and assets/). */
  root: string;
}

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, { root }) => {
  if (!existsSync(join(root, 'index.html'))) {
    // A clone that was never built: say how to build rather than answering a bare 404.
    app.get('/', { schema: { summary: 'The dashboard (not built here: says how to build it)', tags: ['dashboard'] } }, async () => {
      throw new LoomError('NOT_FOUND', `the dashboard is not built (no ${join(root, 'index.html')})`, { fix: 'run `npm run build` in the Loom checkout, then start `loom server` again' });
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    index: 'index.html',
    // Our own cache headers below, not send's `max-age=0`.
    cacheControl: false,
    // Vite names assets by content hash: a changed file is a new URL, so they never go stale.
    setHeaders: (reply, path) => reply.setHeader('cache-control', path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  const shell = (_request: unknown, reply: import('fastify').FastifyReply) => reply.header('cache-control', 'no-cache').sendFile('index.html');
  // Static files and the app's own URLs are pages, not API: left out of /openapi.json (as @fastify/static's routes are).
  const page = { schema: { hide: true } };
  for (const view of DASHBOARD_VIEWS) {
    app.get(`/${view}`, page, shell);
    app.get(`/${view}/*`, page, shell);
  }
};
