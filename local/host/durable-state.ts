/**
 * DATA_DIR/durable: the instance records (local/engine/file-store.ts), which app data they belong to,
 * and where the engine's clock stood. Durable state and the app's data must never disagree: a
 * store written against other data (a new embedded Cosmos server, another COSMOS_ENDPOINT) is
 * not replayed against the wrong documents: it is moved aside (named in the log, never deleted)
 * and the host starts from an empty store.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RealClock, type ClockAnchor } from '../engine/clock';
import { FileInstanceStore, LOG_FILE } from '../engine/file-store';

interface SavedClock extends ClockAnchor {
  speed: number;
}

export interface DurableState {
  store: FileInstanceStore;
  clock: RealClock;
  /** True when the store was set aside because it belonged to other data. */
  emptied: boolean;
  /** Where the set-aside store now is. */
  setAside?: string;
}

export function openDurableState(options: {
  dataDir: string;
  dataIdentity: string;
  timeScale: number;
  fsync: boolean;
  log: { info(message: string): void; warn(message: string): void };
}): DurableState {
  const folder = join(options.dataDir, 'durable');
  const instances = join(folder, 'instances');
  const bindingFile = join(folder, 'binding.json');
  const clockFile = join(folder, 'clock.json');

  const bound = readJson<{ dataIdentity: string }>(bindingFile)?.dataIdentity;
  const hasRecords =
    existsSync(instances) && readdirSync(instances).some((name) => name.endsWith('.json') || name === LOG_FILE);
  const emptied = bound !== options.dataIdentity && (bound !== undefined || hasRecords);
  let setAside: string | undefined;
  if (emptied) {
    setAside = asideName(options.dataDir);
    renameSync(folder, setAside);
    options.log.warn(
      `the durable store belonged to ${bound ?? 'unknown data'}, not ${options.dataIdentity}: moved it to ${setAside}; starting from an empty durable store`,
    );
  }
  mkdirSync(folder, { recursive: true });
  writeJson(bindingFile, { dataIdentity: options.dataIdentity });

  // A sped-up clock runs ahead of the wall clock: carry on from where it stood (time kept
  // passing, at the old speed, while the host was down), never behind the wall clock.
  const saved = readJson<SavedClock>(clockFile);
  const wallMs = Date.now();
  const previousNow = saved ? saved.clockMs + (wallMs - saved.wallMs) * saved.speed : wallMs;
  const clock = new RealClock({ speed: options.timeScale, anchor: { wallMs, clockMs: Math.max(previousNow, wallMs) } });
  writeJson(clockFile, { ...clock.anchor(), speed: clock.speed } satisfies SavedClock);

  const store = new FileInstanceStore(instances, {
    fsync: options.fsync,
    onCorrupt: (file, error) => options.log.warn(`set aside unreadable ${file} as ${file}.corrupt: ${String(error)}`),
  });
  return { store, clock, emptied, ...(setAside ? { setAside } : {}) };
}

/** DATA_DIR/durable.set-aside-<time>[-n]: a name no earlier set-aside store has. */
function asideName(dataDir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (let n = 0; ; n += 1) {
    const candidate = join(dataDir, `durable.set-aside-${stamp}${n ? `-${n}` : ''}`);
    if (!existsSync(candidate)) return candidate;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value)}\n`);
  renameSync(`${file}.tmp`, file);
}
