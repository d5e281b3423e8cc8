// The layer check that `npm test` runs: dependency-cruiser with .dependency-cruiser.cjs over
// src/, failing on any violation of a layer rule or any folder cycle.
// `npx depcruise --config .dependency-cruiser.cjs src` shows the same in dependency-cruiser's own words.
import { spawnSync } from 'node:child_process';

const result = spawnSync('npx', ['depcruise', '--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'src'], {
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (result.status !== 0 && !result.stdout) {
  process.stderr.write(result.stderr);
  process.exit(1);
}
const { summary } = JSON.parse(result.stdout);
for (const violation of summary.violations) {
  const where = violation.cycle ? [violation.from, ...violation.cycle.map((step) => step.name)].join(' → ') : `${violation.from} → ${violation.to}`;
  process.stderr.write(`${violation.rule.name}: ${where}\n`);
}
process.stdout.write(`layer check: ${summary.totalCruised} modules, ${summary.violations.length} violations\n`);
process.exit(summary.violations.length === 0 ? 0 : 1);
