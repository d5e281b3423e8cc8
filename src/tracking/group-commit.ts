/**
 * Group commit for log-batch: while one transaction is writing, batches that arrive
 * queue up, and the next transaction writes all of them at once. Concurrent clients then
 * share one commit (and each index page is written once per group, not once per batch)
 * without any batch waiting longer than the write in progress. If a group fails (one
 * batch names a deleted run, or changes a param), each batch of the group is written in
 * a transaction of its own, so every caller gets its own outcome and no batch is half written.
 */
export class GroupCommit<T> {
  private queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private draining = false;

  constructor(
    private readonly writeGroup: (items: T[]) => Promise<void>,
    private readonly maxGroup = 32,
  ) {}

  /** Resolves once the item is committed, or rejects with its own error. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxGroup);
        try {
          await this.writeGroup(group.map((entry) => entry.item));
          for (const entry of group) entry.resolve();
        } catch (error) {
          if (group.length === 1) {
            group[0]!.reject(error);
            continue;
          }
          for (const entry of group) {
            try {
              await this.writeGroup([entry.item]);
              entry.resolve();
            } catch (own) {
              entry.reject(own);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
