/** A process owner whose process has really exited: a child started, recorded, then killed. */
import { spawn } from 'node:child_process';
import { ownerOfPid, type ProcessOwner } from '../../src/core/process-owner.js';

export async function deadProcessOwner(): Promise<ProcessOwner> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  const owner = ownerOfPid(child.pid!);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return owner;
}
