/**
 * Modules that Loom starts by path rather than imports (a child process's main module, an
 * objective module a worker loads) exist as TypeScript under Loom's sources, run through tsx,
 * and as compiled JavaScript in the built package (dist/). Worker threads' `.mjs` bootstraps
 * make the same choice in core/worker-module.mjs.
 */

/**
 * The URL of `relative` (without extension) resolved against `base`, the caller's
 * `import.meta.url`, with the extension the caller itself has: `.ts` from the sources, `.js` built.
 */
export function siblingModule(base: string, relative: string): URL {
  return new URL(`${relative}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
