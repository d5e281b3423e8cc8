/**
 * Who runs a command, for authorization and the audit log: the token from `LOOM_TOKEN` or
 * the one `loom login` stored, verified against the project's token store; without one,
 * the operating-system login as a `local` admin (whoever opens the project's database
 * directly can change it anyway; the audit log names them by login, never by `--actor`).
 *
 * Usage: `const context = await changeContext(project); const registry = new GuardedRegistry(project.db.registry, context)`
 */
import { hostname, homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ChangeContext } from '../audit/record-change.js';
import { readCredentials } from '../auth/credentials-file.js';
import type { TokenStore } from '../auth/token-store.js';
import type { Principal } from '../auth/types.js';
import type { Project } from './project.js';

/** The key `loom login` stores a project token under (server URLs are keys too). */
export const DEFAULT_CREDENTIAL = 'default';

/** `$LOOM_CREDENTIALS_FILE`, or `credentials.json` in the user's config folder (`$XDG_CONFIG_HOME/loom`, default `~/.config/loom`). */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LOOM_CREDENTIALS_FILE) return env.LOOM_CREDENTIALS_FILE;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'loom', 'credentials.json');
}

function loginName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The principal running this command on this project. UNAUTHENTICATED for a token the project does not accept. */
export async function cliPrincipal(tokens: TokenStore, env: NodeJS.ProcessEnv = process.env): Promise<Principal> {
  const secret = env.LOOM_TOKEN || (await readCredentials(credentialsPath(env)))[DEFAULT_CREDENTIAL];
  if (secret) return tokens.verifyToken(secret);
  return { subject: loginName(), role: 'admin', grants: [], source: 'local' };
}

/** Who, from where, and the log: what every CLI change is made and recorded with. */
export async function changeContext(project: Project, env: NodeJS.ProcessEnv = process.env): Promise<ChangeContext & { tokens: TokenStore }> {
  const { tokens, audit } = project;
  return { principal: await cliPrincipal(tokens, env), address: `cli@${hostname()}`, audit, tokens };
}
