// The layer check that `npm test` runs: dependency-cruiser with .dependency-cruiser.cjs over
// src/, failing on any violation except those in the temporary list below. Run
// `npx depcruise --config .dependency-cruiser.cjs src` to see every violation, listed ones included.
import { spawnSync } from 'node:child_process';

/**
 * TEMPORARY: imports that break a layer rule today only because another engineer's work in
 * flight removes them (named per entry). A folder cycle is forgiven only when one of its
 * folder-to-folder steps is made of these imports alone. The lead deletes each entry once
 * that work is merged; never add to this list: fix the import.
 */
const PENDING = [
  { from: 'src/pipeline/execute-step.ts', to: /^src\/server\//, owner: 'runner: the step runner no longer starts the platform server' },
];

const pending = (from, to) => PENDING.some((entry) => entry.from === from && entry.to.test(to));

const result = spawnSync('npx', ['depcruise', '--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'src'], {
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (result.status !== 0 && !result.stdout) {
  process.stderr.write(result.stderr);
  process.exit(1);
}
const { modules, summary } = JSON.parse(result.stdout);

const inFolder = (path, folder) => path.startsWith(`${folder}/`);
/** True when every import from folder `a` into folder `b` is a pending one. */
function onlyPendingBetween(a, b) {
  let any = false;
  for (const module of modules) {
    if (!inFolder(module.source, a) || inFolder(module.source, b)) continue;
    for (const dependency of module.dependencies) {
      if (!inFolder(dependency.resolved, b) || inFolder(dependency.resolved, a)) continue;
      if (!pending(module.source, dependency.resolved)) return false;
      any = true;
    }
  }
  return any;
}

function forgiven(violation) {
  if (violation.rule.name === 'no-folder-cycles') {
    const folders = [violation.from, ...violation.cycle.map((step) => step.name)];
    return folders.slice(1).some((folder, i) => onlyPendingBetween(folders[i], folder));
  }
  return violation.type === 'dependency' && pending(violation.from, violation.to);
}

const errors = summary.violations.filter((violation) => !forgiven(violation));
for (const violation of errors) {
  const where = violation.cycle ? [violation.from, ...violation.cycle.map((step) => step.name)].join(' → ') : `${violation.from} → ${violation.to}`;
  process.stderr.write(`${violation.rule.name}: ${where}\n`);
}
const skipped = summary.violations.length - errors.length;
process.stdout.write(`layer check: ${summary.totalCruised} modules, ${errors.length} violations${skipped ? ` (${skipped} pending on work in flight, see scripts/check-layers.mjs)` : ''}\n`);
process.exit(errors.length === 0 ? 0 : 1);
