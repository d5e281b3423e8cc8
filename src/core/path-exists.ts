import { stat } from 'node:fs/promises';

/** Whether a path exists; errors other than "no such file" (permissions, I/O) are thrown, not read as absence. */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return false;
      throw error;
    },
  );
}
