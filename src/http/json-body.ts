/**
 * JSON bodies with bounded nesting: a body nested deeper than the limit is refused with 400
 * before it is parsed, by a scan that stops at the first bracket too many, so a 10 MB
 * `[[[[...` costs microseconds instead of a parse and a stack overflow further on. Parsing
 * itself is Fastify's (prototype-poisoning checks included).
 *
 * Usage: `jsonDepthExceeds('[[1]]', 1) === true`; `await app.register(jsonBodyPlugin, { maxDepth: 64 })`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LoomError } from '../core/errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Whether `text` (JSON or not) nests arrays and objects more than `maxDepth` deep; brackets inside strings do not count. */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  // Each level takes at least two characters: a shorter text cannot be too deep.
  if (text.length <= maxDepth * 2) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** A parser of JSON text for `app`: nesting checked first, then Fastify's own parse (prototype-poisoning checks included). */
export function boundedJsonParser(app: FastifyInstance, maxDepth: number): (request: FastifyRequest, text: string, done: (error: Error | null, body?: unknown) => void) => void {
  // Fastify's defaults: a body with `__proto__` or `constructor.prototype` keys is refused.
  const parse = app.getDefaultJsonParser('error', 'error');
  return (request, text, done) => {
    if (jsonDepthExceeds(text, maxDepth)) {
      done(new LoomError('INVALID_ARGUMENT', `the request body nests arrays or objects more than ${maxDepth} deep`, { field: 'body', fix: 'send tensors flat, with their shape in "shape"' }), undefined);
      return;
    }
    parse(request, text, done);
  };
}

/** Replaces the app's `application/json` parser with one that checks nesting first. */
export const jsonBodyPlugin = fp<{ maxDepth: number }>(
  async (app, { maxDepth }) => {
    const parse = boundedJsonParser(app, maxDepth);
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => parse(request, body as string, done));
  },
  { name: 'loom-json-body', fastify: '5.x' },
);
