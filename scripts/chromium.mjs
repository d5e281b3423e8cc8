// The Chromium the browser tests drive (through playwright-core): Debian's package,
// installed with apt-get when missing, so no browser is downloaded by playwright at run
// time. If LOOM_TEST_CHROMIUM is already set, that executable is used as is.
//
// Usage: const chromium = ensureChromium(); env.LOOM_TEST_CHROMIUM = chromium;
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** @returns {string | undefined} the path of a Chromium executable, installing Debian's chromium if none is found */
export function ensureChromium() {
  if (process.env.LOOM_TEST_CHROMIUM) return process.env.LOOM_TEST_CHROMIUM;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    console.log('chromium: not found and not root; install it with `sudo apt-get install -y chromium` to run the browser tests');
    return undefined;
  }
  console.log('chromium: not found; running apt-get update');
  run('apt-get', ['update']);
  console.log('chromium: running apt-get install -y chromium');
  run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { DEBIAN_FRONTEND: 'noninteractive' });
  const installed = CANDIDATES.find((path) => existsSync(path));
  if (!installed) throw new Error('chromium: apt-get install chromium finished but no chromium executable was found');
  return installed;
}

function run(command, args, env = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`chromium: ${command} ${args.join(' ')} failed (status ${result.status})`);
}

// Run directly (`node scripts/chromium.mjs`), it installs and prints the path.
if (import.meta.url === `file://${process.argv[1]}`) console.log(ensureChromium() ?? '');
