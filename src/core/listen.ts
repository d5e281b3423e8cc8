/**
 * Starting any of Loom's HTTP servers on a port: the URL actually bound (for port 0), and a
 * busy port reported as UNAVAILABLE naming the `--port` to change.
 *
 * Usage: `const url = await listenOn(app, { port: 0 });`
 */
import type { FastifyInstance } from 'fastify';
import { LoomError } from './errors.js';

export async function listenOn(app: FastifyInstance, options: { port: number; host?: string }): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  try {
    // Node's default accept queue (511) overflows when a crowd connects at once (1,000 clients:
    // the kernel drops the rest, which retry after 1, 3, 7 s); Linux caps it at somaxconn.
    await app.listen({ port: options.port, host, backlog: 4096 });
  } catch (error) {
    throw new LoomError('UNAVAILABLE', `cannot listen on ${host}:${options.port}: ${(error as Error).message}`, {
      field: 'port',
      fix: 'choose another --port, or stop what is using this one',
      retryable: false,
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
