/**
 * What a server may expose, decided before it listens: without authentication a server
 * runs open only on a loopback address (and says so); on any other address it is refused
 * unless the operator forces it, which is loudly warned about. And, for the open loopback
 * case, the Host-header allow-list that stops DNS rebinding (a web page whose name resolves
 * to 127.0.0.1 cannot drive the API from the user's browser).
 *
 * Usage: `const { open, notice } = decideExposure({ host: '0.0.0.0', authRequired: false, forceOpen: false })` (throws FAILED_PRECONDITION)
 */
import { isIP } from 'node:net';
import { LoomError } from '../core/errors.js';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 (and its IPv4-mapped form), `localhost`. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export interface ExposureDecision {
  /** Whether requests without credentials are accepted (as the unauthenticated `open` principal). */
  open: boolean;
  /** What the server prints at start. */
  notice: string;
  /** For an open server: the Host headers accepted (the loopback names); undefined: any. */
  allowedHosts?: string[];
}

export function decideExposure(options: { host: string; authRequired: boolean; forceOpen: boolean }): ExposureDecision {
  if (options.authRequired) return { open: false, notice: 'authentication required: every request needs Authorization: Bearer <token>' };
  if (isLoopback(options.host)) {
    return {
      open: true,
      notice: `open on loopback (${options.host}) without authentication: any local program may change the registry; start with authentication required before sharing the machine`,
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
    };
  }
  if (!options.forceOpen) {
    throw new LoomError('FAILED_PRECONDITION', `refusing to listen on ${options.host} without authentication: anyone who can reach it could move @champion or delete models`, {
      field: 'host',
      fix: 'require authentication (issue tokens with `loom token create` and start with authentication required), listen on 127.0.0.1, or force it with --insecure-open',
    });
  }
  return { open: true, notice: `WARNING: open on ${options.host} WITHOUT AUTHENTICATION (forced): anyone who can reach this address can change and delete models` };
}

/**
 * Whether a request's Host header names one of the allowed hosts (any port). A missing
 * header is refused: every HTTP/1.1 client sends one.
 */
export function isAllowedHost(hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(:\d{1,5})?$/.exec(hostHeader.trim());
  if (!match) return false;
  const name = match[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  return allowedHosts.some((allowed) => allowed.toLowerCase() === name);
}
