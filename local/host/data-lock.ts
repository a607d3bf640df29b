/**
 * One host per data folder: two engines writing the same instance files would each act on work
 * the other owns. DATA_DIR/host.pid names the host holding the folder; a PID that is no longer
 * running (the host was killed) leaves the lock free to take.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning } from './processes';

export const lockFile = (dataDir: string) => join(dataDir, 'host.pid');

/** The PID of the live host holding the folder, if any. */
export function lockHolder(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockFile(dataDir), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the folder for this process; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  for (let attempt = 1; ; attempt += 1) {
    try {
      // 'wx': of two hosts starting at once, one creates the file and the other sees it.
      writeFileSync(lockFile(dataDir), `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw error;
      const holder = lockHolder(dataDir);
      if (holder !== undefined)
        throw new Error(
          `${dataDir} is in use by another host (pid ${holder}); stop it first or set DATA_DIR to another folder`,
          { cause: error },
        );
      // Left behind by a host that was killed.
      rmSync(lockFile(dataDir), { force: true });
    }
  }
  return () => {
    try {
      if (readFileSync(lockFile(dataDir), 'utf8').trim() === String(process.pid))
        rmSync(lockFile(dataDir), { force: true });
    } catch {
      // Already gone.
    }
  };
}
