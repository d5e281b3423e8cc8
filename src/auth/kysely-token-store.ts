/**
 * The one TokenStore implementation, over Kysely, on the Loom database (its own table,
 * `auth_token`). Secrets are looked up by their SHA-256, which has a unique index.
 *
 * Usage: `const { secret } = await platform.tokens.createToken({ subject: 'alice', role: 'editor', createdBy: 'admin' })`
 * (`openPlatform` builds it over the Loom database).
 */
import { LoomError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import { parseInput } from '../core/validation.js';
import type { AuthKysely, AuthTokenTable } from './tables.js';
import { hashTokenSecret, newTokenSecret } from './token-secret.js';
import type { TokenStore } from './token-store.js';
import { modelGrantSchema, newTokenSchema, ROLES, type ApiToken, type NewToken, type Principal, type Role } from './types.js';

const TOKEN_ID = /^[0-9a-f]{12}$/;

function toApiToken(row: AuthTokenTable): ApiToken {
  return {
    id: row.id,
    name: row.name,
    subject: row.subject,
    role: (ROLES as readonly string[]).includes(row.role) ? (row.role as Role) : 'viewer',
    grants: modelGrantSchema.array().parse(JSON.parse(row.grants)),
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

/** One answer for every refused secret, so a caller cannot tell unknown from revoked or expired. */
function refused(): LoomError {
  return new LoomError('UNAUTHENTICATED', 'the API token is not valid (unknown, expired or revoked)', {
    fix: 'ask an admin for a new token (`loom token create`) and use it (`loom login`, or Authorization: Bearer <token>)',
  });
}

export class KyselyTokenStore implements TokenStore {
  constructor(private readonly db: AuthKysely) {}

  async createToken(spec: NewToken): Promise<{ token: ApiToken; secret: string }> {
    const valid = parseInput(newTokenSchema, spec, { what: 'the new API token', fix: 'give a subject, a role (viewer, editor or admin) and optional grants and expiry' });
    const { id, secret } = newTokenSecret();
    const row: AuthTokenTable = {
      id,
      name: valid.name,
      subject: valid.subject,
      role: valid.role,
      grants: canonicalJson(valid.grants),
      secret_hash: hashTokenSecret(secret),
      created_at: Date.now(),
      created_by: valid.createdBy,
      expires_at: valid.expiresAt,
      revoked_at: null,
    };
    await this.db.insertInto('auth_token').values(row).execute();
    return { token: toApiToken(row), secret };
  }

  async listTokens(options: { includeInactive?: boolean; now?: number } = {}): Promise<ApiToken[]> {
    let query = this.db.selectFrom('auth_token').selectAll();
    if (!options.includeInactive) {
      const now = options.now ?? Date.now();
      query = query.where('revoked_at', 'is', null).where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(toApiToken);
  }

  async revokeToken(id: string): Promise<ApiToken> {
    if (typeof id !== 'string' || !TOKEN_ID.test(id)) {
      throw new LoomError('INVALID_ARGUMENT', `token id must be 12 hex digits, got ${JSON.stringify(id)}`, { field: 'id', fix: 'list the ids with `loom token ls`' });
    }
    await this.db.updateTable('auth_token').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    const row = await this.db.selectFrom('auth_token').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new LoomError('NOT_FOUND', `no API token ${id}`, { field: 'id', fix: 'list the ids with `loom token ls --all`' });
    return toApiToken(row);
  }

  async verifyToken(secret: string, now = Date.now()): Promise<Principal> {
    if (typeof secret !== 'string' || secret.length === 0 || secret.length > 512) throw refused();
    const row = await this.db.selectFrom('auth_token').selectAll().where('secret_hash', '=', hashTokenSecret(secret)).executeTakeFirst();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) throw refused();
    const token = toApiToken(row);
    const principal: Principal = { subject: token.subject, role: token.role, grants: token.grants, source: 'token', tokenId: token.id };
    return token.expiresAt === null ? principal : { ...principal, expiresAt: token.expiresAt };
  }
}
