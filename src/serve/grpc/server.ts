/**
 * KServe's V2 gRPC endpoint (`inference.GRPCInferenceService`, `inference.proto` beside this
 * file) on a port of its own, with @grpc/grpc-js, over the model server's own pool: the
 * same routing (canary split on the request id), features check, micro-batcher, prediction
 * log (protocol `v2-grpc`), metrics and authorization as the HTTP routes. The bearer token
 * travels as the `authorization` metadata entry and is verified by the server's resolver;
 * health probes need none, like `/v2/health/*`, and every prediction passes `routeRequest`,
 * so per-model grants hold here as well. Failures map to the gRPC status of the same name
 * as their LoomError code (the codes were named after them); a server fault's message is
 * never sent, only logged.
 *
 * Usage: `const grpc = await startGrpcServer({ ctx, port: 8081, isReady }); ... await grpc.close();`
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { PrincipalResolver } from '../../auth/principal.js';
import type { Principal } from '../../auth/types.js';
import { LoomError, isLoomError } from '../../core/errors.js';
import { httpProblemOf } from '../../http/errors.js';
import { openPrincipal } from '../../http/principal.js';
import { isValidRequestId, type Logger } from '../../http/request-log.js';
import { fromV2Inputs } from '../features.js';
import { logFailure, routeRequest, type InferenceContext } from '../inference.js';
import { versionParam } from '../routes/request-parts.js';
import { V2_SERVER, runV2, v2ModelMetadata } from '../v2-answers.js';
import { inferResponseOf, v2InputsOf, type ModelInferRequest } from './tensors.js';

export interface GrpcServerOptions {
  ctx: InferenceContext;
  port: number;
  /** Default 127.0.0.1, like the HTTP server's. */
  host?: string;
  /** Whether the server has a model to serve (ServerReady). */
  isReady(): boolean;
  /** The HTTP server's resolver: tokens or JWTs from `authorization`; none: open, as the HTTP app without security. */
  security?: { resolvePrincipal: PrincipalResolver };
  /** The name of an unauthenticated caller on an open server. */
  anonymousName?: string;
  /** Largest request message in bytes (the HTTP body limit). */
  maxMessageBytes: number;
  /** Where server faults are logged; none: stderr. */
  log?: Logger;
}

export interface GrpcServer {
  /** `host:port` as a gRPC client dials it, with the port actually bound (for port 0). */
  address: string;
  port: number;
  /** Stops accepting calls, lets those in flight finish (at most `graceMs`, default 10 s), then closes. */
  close(graceMs?: number): Promise<void>;
}

const PROTO = fileURLToPath(new URL('./inference.proto', import.meta.url));
// 64-bit integers as strings, so a value past 2^53 is refused rather than silently rounded.
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, arrays: true, oneofs: true };

let service: grpc.ServiceDefinition | undefined;
/** The service definition, read from the .proto once per process. */
function inferenceService(): grpc.ServiceDefinition {
  if (service) return service;
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, LOADER_OPTIONS)) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return (service = loaded.inference.GRPCInferenceService.service);
}

/** Binds the service on `host:port` and starts answering; UNAVAILABLE naming `--grpc-port` when it cannot bind. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const host = options.host ?? '127.0.0.1';
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxMessageBytes });
  server.addService(inferenceService(), serviceImplementation(options));
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${hostPart}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  }).catch((error: Error) => {
    server.forceShutdown();
    throw new LoomError('UNAVAILABLE', `cannot listen for gRPC on ${host}:${options.port}: ${error.message}`, {
      field: 'grpcPort',
      fix: 'choose another --grpc-port (or serve.grpcPort), or stop what is using this one',
      retryable: false,
    });
  });
  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000) =>
    (closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), graceMs);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));
  return { address: `${hostPart}:${port}`, port, close };
}

/** The request's id for the log and the canary split: the `x-request-id` metadata entry when valid, else the request's own `id` when valid. */
function requestIdOf(metadata: grpc.Metadata, id: string): string | undefined {
  const header = metadata.get('x-request-id')[0];
  if (isValidRequestId(header)) return header;
  return isValidRequestId(id) ? id : undefined;
}

/** The metadata entries the principal resolver reads, as the HTTP headers it takes. */
function headersOf(metadata: grpc.Metadata): Record<string, string | undefined> {
  const text = (key: string) => {
    const value = metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  return { authorization: text('authorization'), 'x-loom-actor': text('x-loom-actor') };
}

type Handler<Request> = (request: Request, principal: () => Promise<Principal>, metadata: grpc.Metadata) => Promise<object>;

function serviceImplementation(options: GrpcServerOptions): grpc.UntypedServiceImplementation {
  const { ctx } = options;
  const pool = ctx.pool;
  const anonymousName = options.anonymousName ?? 'anonymous';
  const authenticate = (metadata: grpc.Metadata): Promise<Principal> => {
    const headers = headersOf(metadata);
    return options.security ? options.security.resolvePrincipal(headers) : Promise.resolve(openPrincipal({ headers }, anonymousName));
  };
  /** A unary call: its answer, or its failure as a gRPC status; `modelOf` names the model for the error counter. */
  const unary =
    <Request>(rpc: string, handle: Handler<Request>, modelOf: (request: Request) => string = () => ''): grpc.handleUnaryCall<Request, object> =>
    (call, callback) => {
      handle(call.request, () => authenticate(call.metadata), call.metadata).then(
        (response) => callback(null, response),
        (error: unknown) => {
          const problem = httpProblemOf(error);
          if (problem.internal) logFault(options.log, rpc, error);
          ctx.metrics.error(modelOf(call.request), problem.status);
          const details = problem.fix ? `${problem.message} (fix: ${problem.fix})` : problem.message;
          callback({ code: grpc.status[problem.code], details });
        },
      );
    };
  const version = (text: string) => (text === '' ? undefined : versionParam(text));
  type Named = { name: string; version: string };

  return {
    ServerLive: unary('ServerLive', async () => ({ live: true })),
    ServerReady: unary('ServerReady', async () => ({ ready: options.isReady() })),
    ServerMetadata: unary('ServerMetadata', async (_request, principal) => {
      await principal();
      // Triton's binary_tensor_data is an HTTP extension: over gRPC, raw contents are part of the protocol.
      return { ...V2_SERVER, extensions: [] };
    }),
    ModelReady: unary<Named>(
      'ModelReady',
      async (request, principal) => {
        await principal();
        try {
          pool.route(request.name, version(request.version));
          return { ready: true };
        } catch (error) {
          // The protocol answers "not ready" for a model the server does not hold, where HTTP answers 404.
          if (isLoomError(error) && error.code === 'NOT_FOUND') return { ready: false };
          throw error;
        }
      },
      (request) => request.name,
    ),
    ModelMetadata: unary<Named>(
      'ModelMetadata',
      async (request, principal) => {
        await principal();
        return v2ModelMetadata(pool, pool.route(request.name, version(request.version)).model);
      },
      (request) => request.name,
    ),
    ModelInfer: unary<ModelInferRequest>(
      'ModelInfer',
      async (request, principal, metadata) => {
        const started = performance.now();
        const who = await principal();
        const requestId = requestIdOf(metadata, request.id);
        // Routed before the tensors are read, so an unknown model is NOT_FOUND whatever they hold.
        const route = routeRequest(ctx, who, request.model_name, version(request.model_version), undefined, requestId);
        try {
          const rows = fromV2Inputs(v2InputsOf(request), route.model.compiled);
          const names = request.outputs.map((output) => output.name);
          const answer = await runV2(ctx, route, rows, 'v2-grpc', requestId, started, names);
          // The request's id echoed (the protocol's rule), else the one the log recorded, so feedback can quote it.
          return inferResponseOf(answer, request.id !== '' ? request.id : answer.requestId);
        } catch (error) {
          throw logFailure(ctx, route, requestId, 'v2-grpc', started, error);
        }
      },
      (request) => request.model_name,
    ),
  };
}

/** A server fault's details go to the log (with the rpc), never to the client. */
function logFault(log: Logger | undefined, rpc: string, error: unknown): void {
  if (log?.isLevelEnabled('error')) {
    log.error({ err: error, rpc }, 'gRPC request failed');
    return;
  }
  process.stderr.write(`gRPC ${rpc} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
}
