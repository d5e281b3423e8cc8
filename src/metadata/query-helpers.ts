/**
 * Small pieces both Kysely stores (metadata and registry) share: page tokens, page
 * sizes, JSON columns, chunked batches and input checks that fail with INVALID_ARGUMENT.
 */
import { LoomError } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { Page, PageRequest } from './types.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * Rows per multi-row INSERT. Each row binds up to 13 parameters; PostgreSQL allows 65,535
 * per statement and SQLite 32,766, so 1,000 rows stays well inside both.
 */
export const INSERT_CHUNK_ROWS = 1000;
/** Ids per `IN (...)` list, for the same parameter limits. */
export const IN_LIST_CHUNK = 5000;

/** The page size asked for, checked. */
export function pageSizeOf(request: PageRequest): number {
  const size = request.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new LoomError('INVALID_ARGUMENT', `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${size}`, {
      field: 'pageSize',
    });
  }
  return size;
}

/** Page tokens are opaque to callers: the base64url of the last row's sort key. */
export function encodePageToken(key: string | number): string {
  return Buffer.from(`${typeof key === 'number' ? 'n' : 's'}:${key}`, 'utf8').toString('base64url');
}

function decodePageToken(token: string): { kind: string; value: string } {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon !== 1) throw badToken();
  return { kind: text[0], value: text.slice(2) };
}

function badToken(): LoomError {
  return new LoomError('INVALID_ARGUMENT', 'pageToken is not a token this server gave out', {
    field: 'pageToken',
    fix: 'pass back the nextPageToken of the previous page, or omit it for the first page',
  });
}

/** The id a numeric page token carries, or undefined for the first page. */
export function idAfterToken(request: PageRequest): number | undefined {
  if (request.pageToken === undefined || request.pageToken === '') return undefined;
  const { kind, value } = decodePageToken(request.pageToken);
  const id = Number(value);
  if (kind !== 'n' || !Number.isSafeInteger(id)) throw badToken();
  return id;
}

/** The text key a page token carries, or undefined for the first page. */
export function textAfterToken(request: PageRequest): string | undefined {
  if (request.pageToken === undefined || request.pageToken === '') return undefined;
  const { kind, value } = decodePageToken(request.pageToken);
  if (kind !== 's') throw badToken();
  return value;
}

/**
 * Makes a page from up to `size + 1` rows: the extra row only says that another page exists.
 */
export function toPage<R, T>(rows: R[], size: number, keyOf: (row: R) => string | number, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, size);
  const page: Page<T> = { items: items.map(map) };
  if (rows.length > size) page.nextPageToken = encodePageToken(keyOf(items[items.length - 1]));
  return page;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function parseJsonObject(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

export function parseJsonRecord<V>(text: string): Record<string, V> {
  return JSON.parse(text) as Record<string, V>;
}

/** Checks that a name is a non-empty string and returns it. */
export function requireName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be a non-empty string`, { field });
  }
  return value;
}

/** Checks that a value is a plain JSON object (or absent, giving `{}`). */
export function requireObject(value: unknown, field: string): JsonObject {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be an object`, { field });
  }
  return value as JsonObject;
}

/** Checks that a value is one of a fixed list (a union made from a const array). */
export function requireOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be one of ${allowed.join(', ')}, got ${String(value)}`, {
      field,
    });
  }
  return value as T;
}

export function requireIdList(ids: unknown, field: string): number[] {
  if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id))) {
    throw new LoomError('INVALID_ARGUMENT', `${field} must be a list of integer ids`, { field });
  }
  return ids as number[];
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
