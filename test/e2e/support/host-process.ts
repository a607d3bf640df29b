/**
 * The offline host as a separate process, the way `npm start` runs it: built bundle, its own
 * data folder, embedded dependencies. Every process a test starts is stopped by PID, in afterAll
 * and, should jest exit early, in a process exit hook.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stopDependencies, stateFile } from '../../../local/host/dependencies';
import { isRunning } from '../../../local/host/processes';

export const ROOT = resolve(__dirname, '../../..');

export interface HostProcess {
  baseUrl: string;
  pid: number;
  dataDir: string;
  /** Everything the host printed so far. */
  output(): string;
  /** Sends the signal and resolves with the exit code (null when killed by a signal). */
  signal(signal: NodeJS.Signals): Promise<number | null>;
}

// ---- cleanup, whatever happens --------------------------------------------------------------

const livePids = new Set<number>();
const dataDirs = new Set<string>();
let exitHookInstalled = false;

/** Synchronous, for process 'exit': SIGKILL to every host and embedded dependency still known. */
function killEverythingNow(): void {
  for (const pid of livePids) killGroupQuietly(pid);
  for (const dataDir of dataDirs) {
    try {
      const state = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as Record<string, { pid?: number }>;
      for (const entry of Object.values(state))
        if (typeof entry === 'object' && entry?.pid) killGroupQuietly(entry.pid);
    } catch {
      // No dependencies recorded.
    }
  }
}

function killGroupQuietly(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killEverythingNow);
}

export interface HostFixture {
  /** A temp folder of the test file's own, for data folders and host logs. */
  root: string;
  /** Starts a host on `root/<dataDirName>` (the same name again: the same data, as after a restart). */
  start(dataDirName: string, env?: Record<string, string>): Promise<HostProcess>;
  /** Stops what runs on the file's data folders (hosts first), removes the temp folders. */
  cleanup(hosts: (HostProcess | undefined)[]): Promise<void>;
}

/** Builds (if stale) and snapshots the app, and gives the test file a temp folder. */
export function hostFixture(label: string): HostFixture {
  const root = mkdtempSync(join(tmpdir(), `saga-e2e-${label}-`));
  const app = builtAppSnapshot(label);
  return {
    root,
    start: (dataDirName, env = {}) => startHostProcess(join(root, dataDirName), { APP_ROOT: app.appRoot, ...env }),
    async cleanup(hosts) {
      for (const host of hosts) await stopHost(host);
      for (const dataDir of [...dataDirs].filter((dir) => dir.startsWith(root))) {
        await stopDependencies(dataDir);
        dataDirs.delete(dataDir);
      }
      rmSync(root, { recursive: true, force: true });
      app.remove();
    },
  };
}

// ---- build ----------------------------------------------------------------------------------

/** Newest modification time under `path` (files only). */
function newest(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let names: string[] = [];
  try {
    names = readdirSync(path);
  } catch {
    // Removed while we looked (a build in progress).
  }
  return Math.max(0, ...names.map((name) => newest(join(path, name))));
}

/**
 * Builds dist/ (npm run build) unless it is newer than everything it is built from, and copies
 * it to a folder of this test file's own: the host then loads that copy through its package.json
 * `main`, as the worker loads a deployed package, and a build started meanwhile (another jest
 * worker, or someone at work in the checkout) cannot pull the files from under it.
 */
export function builtAppSnapshot(label: string): { appRoot: string; remove(): void } {
  withBuildLock(() => {
    const sources = Math.max(
      ...['src', 'package.json', 'host.json', ...buildScripts()].map((path) => newest(join(ROOT, path))),
    );
    waitForQuietDist();
    const entry = distEntry();
    if (!entry || statSync(entry).mtimeMs < sources)
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  });
  const appRoot = join(ROOT, '.cache', 'e2e-apps', `${label}-${process.pid}-${Date.now().toString(36)}`);
  for (let attempt = 1; ; attempt += 1) {
    waitForQuietDist();
    rmSync(appRoot, { recursive: true, force: true });
    cpSync(join(ROOT, 'dist'), appRoot, { recursive: true });
    const main = (JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { main: string }).main;
    if (existsSync(join(appRoot, main)) || attempt >= 5) break;
  }
  return { appRoot, remove: () => rmSync(appRoot, { recursive: true, force: true }) };
}

function buildScripts(): string[] {
  return readdirSync(join(ROOT, 'scripts'))
    .filter((name) => /^build.*\.mjs$/.test(name))
    .map((name) => join('scripts', name));
}

/** The bundle's entry in dist/, if a complete build is there. */
function distEntry(): string | undefined {
  try {
    const main = (JSON.parse(readFileSync(join(ROOT, 'dist', 'package.json'), 'utf8')) as { main: string }).main;
    return existsSync(join(ROOT, 'dist', main)) ? join(ROOT, 'dist', main) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits (up to a minute) until dist/ is complete and nothing in it changed for a second. */
function waitForQuietDist(): void {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const quiet =
      existsSync(join(ROOT, 'dist')) && distEntry() !== undefined && Date.now() - newest(join(ROOT, 'dist')) > 1000;
    if (quiet || !existsSync(join(ROOT, 'dist'))) return;
    sleepSync(250);
  }
}

/** A lock folder keeps two jest workers from building at once. */
function withBuildLock(work: () => void): void {
  const lock = join(tmpdir(), 'durable-order-saga-build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a build that died.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > 120_000 || Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      sleepSync(200);
    }
  }
  try {
    work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---- the host process -------------------------------------------------------------------------

let started = 0;

/**
 * Starts `node --import tsx local/host/main.ts` on a free port with `dataDir`, in its own process
 * group, and waits for "Host ready". The test's own Cosmos and storage settings are not passed
 * on, so the host uses its embedded dependencies unless `env` sets them.
 */
async function startHostProcess(
  dataDir: string,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<HostProcess> {
  installExitHook();
  dataDirs.add(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logFile = `${dataDir}.host-${(started += 1)}.log`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(COSMOS_|AzureWebJobsStorage|WEBSITE_HOSTNAME)/.test(name)),
  );
  const log = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/host/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'information', ...env },
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const pid = child.pid!;
  livePids.add(pid);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => {
      exitCode = code;
      livePids.delete(pid);
      resolveExit(code);
    }),
  );
  const output = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  const deadline = Date.now() + timeoutMs;
  let baseUrl: string | undefined;
  while (!baseUrl) {
    baseUrl = /Host ready at (http:\/\/[\d.]+:\d+)/.exec(output())?.[1];
    if (baseUrl) break;
    if (exitCode !== undefined) throw new Error(`the host exited with ${exitCode} before it was ready:\n${output()}`);
    if (Date.now() > deadline) {
      killGroupQuietly(pid);
      throw new Error(`the host was not ready within ${timeoutMs} ms:\n${output()}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }

  return {
    baseUrl,
    pid,
    dataDir,
    output,
    async signal(signal) {
      if (exitCode !== undefined) return exitCode;
      // SIGKILL to the whole group: nothing of this host may survive a simulated crash. The
      // embedded dependencies run in groups of their own and live on, as they should.
      if (signal === 'SIGKILL') killGroupQuietly(pid);
      else process.kill(pid, signal);
      return exited;
    },
  };
}

/** Stops a host (SIGTERM, then SIGKILL after 20 s) if it still runs. */
export async function stopHost(host: HostProcess | undefined): Promise<void> {
  if (!host || !isRunning(host.pid)) return;
  const timer = setTimeout(() => killGroupQuietly(host.pid), 20_000);
  await host.signal('SIGTERM');
  clearTimeout(timer);
}
