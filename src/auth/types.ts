/**
 * Who may do what: roles, per-model grants and the authenticated principal every change
 * is recorded under. Values first, types from them, so the CLI and HTTP inputs are checked
 * against the same lists.
 */
import { z } from 'zod';

/** Roles in increasing power: a viewer reads, an editor changes models and runs, an admin also manages rules, tokens and deletions. */
export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What `authorize` is asked about.
 * - `read`: any read.
 * - `write`: create or edit models, versions, tags, experiments and runs; request an alias move.
 * - `alias.move`, `alias.approve`, `deploy`: the model actions, which per-model grants can give or restrict.
 * - `predict`: ask the model server for a model's predictions (or download its graph); a model action too.
 * - `model.admin`: rename or delete a model, delete a version, set its approval rule.
 * - `token.admin`: create, list and revoke API tokens.
 * - `audit.read`: query, verify and export the audit log.
 */
export const ACTIONS = ['read', 'write', 'alias.move', 'alias.approve', 'deploy', 'predict', 'model.admin', 'token.admin', 'audit.read'] as const;
export type Action = (typeof ACTIONS)[number];

/** The actions a per-model grant can carry. */
export const MODEL_ACTIONS = ['alias.move', 'alias.approve', 'deploy', 'predict'] as const;
export type ModelAction = (typeof MODEL_ACTIONS)[number];

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;
const ALIAS_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/**
 * A per-model permission. For a model named in any of a principal's grants, the grants
 * decide its model actions (they replace the role's defaults there, as MLflow's per-model
 * permissions override the default one); `aliases` limits `alias.move` and `alias.approve`
 * to those aliases (`deploy` and `predict` are about the whole model).
 */
export const modelGrantSchema = z
  .object({
    model: z.string().regex(MODEL_NAME, 'a model name: letters, digits, ".", "_" or "-"'),
    actions: z.array(z.enum(MODEL_ACTIONS)).min(1),
    aliases: z.array(z.string().regex(ALIAS_NAME, 'an alias name')).min(1).optional(),
  })
  .strict();
export type ModelGrant = z.infer<typeof modelGrantSchema>;

/**
 * How a principal proved who it is. `open` is the unauthenticated loopback default (a
 * claimed name); `local` is the operating-system login of a command run on the project's
 * database directly, which anyone who can open that database could change anyway.
 */
export const PRINCIPAL_SOURCES = ['token', 'jwt', 'open', 'local'] as const;
export type PrincipalSource = (typeof PRINCIPAL_SOURCES)[number];

/** An authenticated caller. `subject` is the person or service; two tokens of one subject are one principal. */
export interface Principal {
  subject: string;
  role: Role;
  grants: ModelGrant[];
  source: PrincipalSource;
  /** The API token used, for `source: 'token'`. */
  tokenId?: string;
  /** When the token stops being valid (epoch ms), for a token that expires: caches never keep it past then. */
  expiresAt?: number;
}

/** What an action is about: a model and, for alias actions, the alias. */
export interface Resource {
  model?: string;
  alias?: string;
}

/** Subjects: a user name, an e-mail address or a service name; no spaces or control characters. */
export const subjectSchema = z.string().min(1).max(200).regex(/^[^\s\p{Cc}]+$/u, 'no spaces or control characters');

/**
 * The subject an open server's request claims (its `X-Loom-Actor` header, trimmed), if valid.
 * No header (nearly every request) answers without zod: a failed parse builds an error and its
 * issues, a cost every inference request paid for nothing.
 */
export function claimedSubject(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const claimed = subjectSchema.safeParse(header.trim());
  return claimed.success ? claimed.data : undefined;
}

/** An API token as listed: never its secret, which is shown once at creation. */
export interface ApiToken {
  id: string;
  /** What the token is for ("ci", "alice's laptop"). */
  name: string;
  subject: string;
  role: Role;
  grants: ModelGrant[];
  createdAt: number;
  createdBy: string;
  expiresAt: number | null;
  revokedAt: number | null;
}

export const newTokenSchema = z
  .object({
    subject: subjectSchema,
    role: z.enum(ROLES),
    name: z.string().max(200).default(''),
    grants: z.array(modelGrantSchema).default([]),
    /** Epoch milliseconds; null for a token that never expires. */
    expiresAt: z.number().int().positive().nullable().default(null),
    createdBy: subjectSchema,
  })
  .strict();
export type NewToken = z.input<typeof newTokenSchema>;
