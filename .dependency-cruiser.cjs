/**
 * Loom's layer rules, checked by dependency-cruiser on every `npm test` (through
 * scripts/check-layers.mjs); by hand: `npx depcruise --config .dependency-cruiser.cjs src`.
 * docs/architecture.md ("Layers and the guard") explains each rule and why it exists.
 *
 * Imports point down this list. A module may import its own layer and every layer below
 * it; lifecycle modules may import one another as long as no two folders import each
 * other (the folder-cycle rule). Tests (`*.test.ts`) sit above everything and are left
 * out of the graph.
 */

/** Top to bottom. Each entry: a name and the path patterns of its files. */
const LAYERS = [
  // The package's public API re-exports what pipeline authors need, from every layer.
  ['public API', ['^src/index[.]ts$']],
  ['cli', ['^src/cli/']],
  // The TypeScript client: types from the layers below, and (rule below) nothing at run time but core/ errors and http/ error formats.
  ['client', ['^src/client/']],
  ['servers', ['^src/server/', '^src/serve/']],
  ['http', ['^src/http/']],
  ['platform', ['^src/platform/']],
  ['queries', ['^src/queries/']],
  ['lifecycle', ['^src/(data|validate|transform|train|evaluate|push|features|monitor)/']],
  // The step runner runs and records components; lifecycle modules run steps through it.
  ['pipeline runner', ['^src/pipeline/(orchestrator|execute-step|step-runner|step-outputs|run-scope|launcher|standalone-step|resolve-inputs|load-pipeline-file|stores)[.]ts$']],
  // What a component is and how a pipeline is declared: everything else in pipeline/. It names
  // the services an executor is given (the registry, a tracking logger), so it sits above them.
  ['pipeline contract', ['^src/pipeline/']],
  // Authentication and the audit log: the registry guard wraps the registry store.
  ['auth and audit', ['^src/auth/', '^src/audit/']],
  ['registry and tracking', ['^src/registry/', '^src/tracking/']],
  ['lower stores', ['^src/metadata/', '^src/store/']],
  ['onnx', ['^src/onnx/']],
  // The API answers' types (queries/views/) import nothing, so any layer may name them: a store's
  // own row type can then be the answer the dashboard reads, declared once.
  ['core', ['^src/core/', '^src/queries/views/[^/]+[.]ts$']],
];

const TESTS = '[.]test[.]ts$';

/** A pattern naming single files; it wins over a folder pattern of another layer. */
const isFilePattern = (pattern) => pattern.endsWith('$');

/** Path patterns of the layers above layer i. */
function above(i) {
  return LAYERS.slice(0, i).flatMap(([, paths]) => paths);
}

/** File patterns of the layers other than layer i. */
function filesOfOtherLayers(i) {
  return LAYERS.filter((_, j) => j !== i).flatMap(([, paths]) => paths.filter(isFilePattern));
}
/** File patterns of layer i and the layers below it. */
function filesAtOrBelow(i) {
  return LAYERS.slice(i).flatMap(([, paths]) => paths.filter(isFilePattern));
}

/**
 * One rule per layer: its files import nothing of the layers above. A file belongs to the
 * layer whose file pattern names it, else to the layer of its folder: the step runner's
 * files inside pipeline/ sit above the contract.
 */
const layerRules = LAYERS.slice(1).map(([name, paths], offset) => {
  const i = offset + 1;
  return {
    name: `layer-${name.replace(/ /g, '-')}`,
    comment: `${name} imports only its own layer and the layers below it (docs/architecture.md, "Layers and the guard")`,
    severity: 'error',
    from: { path: paths, pathNot: [TESTS, ...filesOfOtherLayers(i)] },
    to: { path: above(i), pathNot: filesAtOrBelow(i) },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'client-runs-in-browsers',
      comment: 'src/client/ runs in browsers: at run time it imports only pure modules (core/errors, http/formats); the rest by `import type`',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TESTS },
      to: { path: '^src/', pathNot: ['^src/client/', '^src/core/errors[.]ts$', '^src/http/formats[.]ts$'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'client-needs-no-node',
      comment: 'src/client/ runs in browsers: no Node built-in modules',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TESTS },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-folder-cycles',
      comment: 'two folders never import each other, directly or through others: a cycle welds them into one module',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-never-imports-examples',
      comment: 'examples are users of the package (they import `loom-mlops`); Loom itself must not need them',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^examples/' },
    },
    {
      name: 'src-imports-test-support-only-from-tests',
      comment: 'test helpers are for tests; shipping code must not import them',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing fails at run time',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports are dependencies too: a type from a higher layer ties the two together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Test helpers and examples are leaves: only an import from src/ reaches them, and that import is the violation.
    doNotFollow: { path: ['node_modules', '^test/', '^examples/'] },
    // Tests sit above every layer; they are not part of the layering.
    exclude: { path: ['node_modules', TESTS] },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    cache: { folder: 'node_modules/.cache/dependency-cruiser', strategy: 'content' },
  },
};
