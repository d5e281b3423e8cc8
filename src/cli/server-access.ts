/**
 * The access flags `loom server` and `loom serve` share (`--require-auth`, `--insecure-open`)
 * and the auth settings they make with the project's config: a flag can only tighten
 * `auth.required` or, explicitly, force an open non-loopback server; never loosen the file.
 *
 * Usage: `command.addOption(requireAuthOption()).addOption(insecureOpenOption())`; in the action: `const settings = authSettingsWith(project.config.auth, options)`
 */
import { Option } from 'commander';
import { z } from 'zod';
import type { AuthSettings } from '../auth/settings.js';

/** The flags' part of a command's options schema. */
export const accessFlagsSchema = z.object({
  requireAuth: z.boolean().optional(),
  insecureOpen: z.boolean().optional(),
});
export type AccessFlags = z.output<typeof accessFlagsSchema>;

export function requireAuthOption(): Option {
  return new Option('--require-auth', 'every request needs a token or JWT (the default off loopback; `auth.required` in loom.config.json)');
}

export function insecureOpenOption(): Option {
  return new Option('--insecure-open', 'run without authentication on a non-loopback address (dangerous)');
}

/** The config's auth settings with the flags applied. */
export function authSettingsWith(auth: AuthSettings, flags: AccessFlags): AuthSettings {
  return { ...auth, required: auth.required || flags.requireAuth === true, insecureOpen: auth.insecureOpen || flags.insecureOpen === true };
}
