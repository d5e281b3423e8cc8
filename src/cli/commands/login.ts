/**
 * `loom login`: keeps an API token for the CLI in the user's credentials file (0600, in the
 * user's config folder, never in the project). The token is read from stdin, never from the
 * command line, where other users could see it in the process list. For a project opened
 * directly the token is checked against its token store first.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { LoomError } from '../../core/errors.js';
import { saveCredential } from '../../auth/credentials-file.js';
import { parseOptions } from '../options.js';
import { openProject } from '../project.js';
import { credentialsPath, DEFAULT_CREDENTIAL } from '../security.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('store an API token for the CLI (read from stdin) in your credentials file')
    .option('--server <url>', 'keep it for this server URL instead of for projects opened directly')
    .action(async (raw: unknown) => {
      const o = parseOptions(z.object({ server: z.url({ protocol: /^https?$/ }).optional() }), raw);
      if (process.stdin.isTTY) process.stderr.write('paste the token, then press Enter and Ctrl-D: ');
      const secret = await readStdin();
      if (!secret || /\s/.test(secret)) throw new LoomError('INVALID_ARGUMENT', 'no token on stdin', { fix: 'pipe it in: `loom token create ... | loom login`, or `loom login < token-file`' });
      let who = '';
      if (!o.server) {
        // The project opened as is: a stored token that no longer works must not stop the login that replaces it.
        const project = await openProject();
        const principal = await project.tokens.verifyToken(secret).finally(() => project.close());
        who = ` as ${principal.subject} (${principal.role})`;
      }
      const path = credentialsPath();
      await saveCredential(path, o.server ?? DEFAULT_CREDENTIAL, secret);
      process.stdout.write(`logged in${who}; the token is kept in ${path}\n`);
    });
}
