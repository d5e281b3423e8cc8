/**
 * Which process owns a piece of unfinished work (a RUNNING execution, pipeline run or
 * tracking run, a staging directory), and whether that process is gone. A process killed
 * with SIGKILL cannot mark its work failed; the next Loom command finds its owner dead and
 * does it, naming the owner.
 *
 * A pid alone is not enough: pids are reused. The owner also records a start token that
 * stays the same for the life of one process and differs for the next one with that pid:
 * on Linux the boot id plus the process's start time in clock ticks since boot
 * (`/proc/<pid>/stat`, field 22). Where /proc is missing the token is null and only
 * whether the pid exists is checked. Containers may share a hostname (host networking) and a boot
 * id but not their pids: the owner records its pid namespace too, and a process of another
 * namespace counts as one on another host, which this one cannot check.
 *
 * Usage: `const owner = currentOwner(); ... if (ownerState(owner) === 'gone') fail(ownerGoneReason(owner))`
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/** The process that owns unfinished work (a type, not an interface, so it fits a JSON property). */
export type ProcessOwner = {
  pid: number;
  host: string;
  /** Boot id and start time of the process, or null where the system does not tell. */
  startToken: string | null;
  /** Its pid namespace (`pid:[4026531836]`); absent where /proc does not tell, and on owners recorded before it was. */
  pidNamespace?: string;
};

/** How an owner is read back from storage (a JSON column, a marker file): outside input. */
export const processOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().min(1),
  startToken: z.string().min(1).nullable(),
  pidNamespace: z.string().min(1).optional(),
});

let self: ProcessOwner | undefined;

/** This process as an owner (computed once). */
export function currentOwner(): ProcessOwner {
  self ??= ownerOfPid(process.pid);
  return self;
}

/** A running process on this host as an owner (a parent recording the child it started). */
export function ownerOfPid(pid: number): ProcessOwner {
  const pidNamespace = pidNamespaceOf(pid);
  return { pid, host: hostname(), startToken: startTokenOf(pid), ...(pidNamespace !== null && { pidNamespace }) };
}

/**
 * 'alive' while the owner's process runs, 'gone' when it has exited (or its pid now
 * belongs to another process), 'unknown' for an owner on another host or in another pid
 * namespace of this one, which this process cannot check.
 */
export function ownerState(owner: ProcessOwner): 'alive' | 'gone' | 'unknown' {
  if (owner.host !== hostname()) return 'unknown';
  const ours = currentOwner().pidNamespace;
  if (owner.pidNamespace !== undefined && ours !== undefined && owner.pidNamespace !== ours) return 'unknown';
  if (!pidExists(owner.pid)) return 'gone';
  if (owner.startToken === null) return 'alive';
  const now = startTokenOf(owner.pid);
  // A token we cannot read now (the process exited in between) means gone as well.
  return now === owner.startToken ? 'alive' : 'gone';
}

/** The reason recorded on work whose owner is gone. */
export function ownerGoneReason(owner: ProcessOwner): string {
  return `owner process ${owner.pid} on host ${owner.host} exited without finishing`;
}

/** Parses a stored owner; undefined for anything that is not one (old rows, a torn marker file). */
export function parseOwner(value: unknown): ProcessOwner | undefined {
  const parsed = processOwnerSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  return parsed.success ? parsed.data : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid namespace a process runs in, or null where /proc does not tell (or the process is gone). */
function pidNamespaceOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

let bootId: string | null | undefined;

function startTokenOf(pid: number): string | null {
  try {
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19];
    return startTime ? `${bootId}:${startTime}` : null;
  } catch {
    bootId ??= null;
    return null;
  }
}
