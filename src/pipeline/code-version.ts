import { execFileSync } from 'node:child_process';
import type { CodeVersion } from '../metadata/types.js';

/** The git commit of `dir` and whether its work tree has uncommitted changes; null commit outside git. */
export function readCodeVersion(dir: string): CodeVersion {
  try {
    const git = (args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git(['rev-parse', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']).length > 0;
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: false };
  }
}
