/**
 * The messages between `loom server` and a re-run's own process (rerun-processes.ts,
 * rerun-process-main.ts), over the child's IPC channel, checked on arrival like any input:
 * the server sends one request; the child answers `started` once the new run is recorded (or
 * `failed` when it could not start it), then `finished` when the run ends.
 */
import { z } from 'zod';
import { modelGrantSchema, PRINCIPAL_SOURCES, ROLES } from '../auth/types.js';
import { ERROR_CODES } from '../core/errors.js';

const principalSchema = z.object({
  subject: z.string(),
  role: z.enum(ROLES),
  grants: z.array(modelGrantSchema),
  source: z.enum(PRINCIPAL_SOURCES),
  tokenId: z.string().optional(),
  expiresAt: z.number().optional(),
});

export const rerunRequestSchema = z.object({
  /** The server's project as it resolved it at start (not read again from loom.config.json and the environment, which may have changed since). */
  project: z.object({ home: z.string(), database: z.object({ url: z.string(), schema: z.string().optional() }), artifacts: z.string() }),
  source: z.object({ runId: z.string(), pipelineFile: z.string(), warmStartFrom: z.string().optional() }),
  /** Who asked, as the server authorized them; absent: unguarded. */
  context: z.object({ principal: principalSchema, address: z.string(), reason: z.string().optional() }).optional(),
});
export type RerunRequest = z.infer<typeof rerunRequestSchema>;

export const rerunReplySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started'), runId: z.string() }),
  z.object({ type: z.literal('failed'), error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), fix: z.string().optional(), field: z.string().optional() }) }),
  z.object({ type: z.literal('finished'), state: z.enum(['COMPLETE', 'FAILED']) }),
]);
export type RerunReply = z.infer<typeof rerunReplySchema>;
