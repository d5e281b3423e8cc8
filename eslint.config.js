// ESLint for the whole repository: JavaScript's and typescript-eslint's recommended rules
// (without type information, so a run stays fast), plus Loom's one layering rule that a
// dependency graph cannot see: only the composition root and the entry points read the
// environment. `npm test` runs it (scripts/test.mjs) with --cache. See docs/architecture.md.
// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_GLOBALS = Object.fromEntries(
  [
    'AbortController', 'AbortSignal', 'Blob', 'Buffer', 'FormData', 'Headers', 'Response', 'TextDecoder', 'TextEncoder',
    'URL', 'URLSearchParams', 'clearImmediate', 'clearInterval', 'clearTimeout', 'console', 'fetch', 'performance',
    'process', 'queueMicrotask', 'setImmediate', 'setInterval', 'setTimeout', 'structuredClone',
  ].map((name) => [name, 'readonly']),
);
const BROWSER_GLOBALS = Object.fromEntries(
  ['console', 'document', 'fetch', 'FormData', 'location', 'URLSearchParams', 'window'].map((name) => [name, 'readonly']),
);

/** `process.env` is read by platform/ (the config) and the entry points only; everything else is given its settings. */
const ENV_READ = { object: 'process', property: 'env', message: 'only src/platform/, src/cli/, src/server/ and bin/ read the environment: take the setting as a parameter or from the platform config' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'python/**', '**/.loom/**', '.venv-*/**', '.test-tmp/**', 'tmp/**', '.dist-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: NODE_GLOBALS },
    rules: {
      // A leading underscore marks a value kept on purpose (a destructured key left out, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  // TypeScript itself reports undefined names, with the project's lib and types.
  { files: ['**/*.ts', '**/*.tsx'], rules: { 'no-undef': 'off' } },
  { files: ['web/**/*.js', 'web/**/*.ts', 'web/**/*.tsx'], languageOptions: { globals: BROWSER_GLOBALS } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { ...NODE_GLOBALS, module: 'writable', require: 'readonly' } } },
  // Tests read JSON answers as `any` to assert on them; the assertions are the type check there.
  { files: ['**/*.test.ts', 'test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    files: ['src/**/*.ts', 'src/**/*.mjs'],
    ignores: ['src/platform/**', 'src/cli/**', 'src/server/**', 'src/**/*.test.ts'],
    rules: { 'no-restricted-properties': ['error', ENV_READ] },
  },
);
