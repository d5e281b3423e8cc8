/**
 * Work left RUNNING by a process that died (SIGKILL, out of memory, a power cut) is marked
 * FAILED by the next command that opens the project, with the reason naming the owner:
 * "owner process 1234 on host h exited without finishing". Only owners on this host whose
 * process is gone (or whose pid now belongs to another process) count; work without an
 * owner (recorded before owners were) or owned on another host is left as it is.
 *
 * Usage: `await failAbandonedWork(db.metadata)` (done when a project opens).
 */
import { isLoomError } from '../core/errors.js';
import { ownerGoneReason, ownerState, parseOwner } from '../core/process-owner.js';
import type { MetadataStore } from './store.js';
import type { Page, PageRequest } from './types.js';

const PAGE_SIZE = 500;

/** What was marked FAILED: execution ids and pipeline run ids (context names). */
export interface AbandonedWork {
  executionIds: number[];
  runIds: string[];
}

export async function failAbandonedWork(store: MetadataStore, now = Date.now()): Promise<AbandonedWork> {
  const executionIds: number[] = [];
  for await (const execution of everyItem((page) => store.listExecutions({ ...page, states: ['RUNNING'] }))) {
    const owner = execution.owner;
    if (!owner || ownerState(owner) !== 'gone') continue;
    try {
      await store.updateExecution(execution.id, { state: 'FAILED', error: ownerGoneReason(owner), endedAt: now });
      executionIds.push(execution.id);
    } catch (error) {
      // Another command finished or failed it meanwhile: nothing left to do.
      if (!isLoomError(error) || error.code !== 'FAILED_PRECONDITION') throw error;
    }
  }
  const runIds: string[] = [];
  for await (const run of everyItem((page) => store.listContexts({ ...page, typeName: 'pipeline_run' }))) {
    if (run.properties.state !== 'RUNNING') continue;
    const owner = parseOwner(run.properties.owner);
    if (!owner || ownerState(owner) !== 'gone') continue;
    await store.updateContext(run.id, { ...run.properties, state: 'FAILED', endedAt: now, error: ownerGoneReason(owner) });
    runIds.push(run.name);
  }
  return { executionIds, runIds };
}

/** Every item of a paged listing, page by page. */
async function* everyItem<T>(list: (page: PageRequest) => Promise<Page<T>>): AsyncGenerator<T> {
  let pageToken: string | undefined;
  do {
    const page = await list({ pageSize: PAGE_SIZE, pageToken });
    yield* page.items;
    pageToken = page.nextPageToken;
  } while (pageToken);
}
