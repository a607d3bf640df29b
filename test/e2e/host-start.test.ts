/**
 * startHost in process, as a test or a script would call it: a start that fails part-way must
 * leave nothing of itself running (no worker thread, no open store, no data lock).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_FILE } from '../../local/engine/file-store';
import { lockFile } from '../../local/host/data-lock';
import { stopDependencies } from '../../local/host/dependencies';
import { isRunning } from '../../local/host/processes';
import { startHost } from '../../local/host/host';
import type { HostLogger } from '../../local/host/logger';
import { readSettings } from '../../local/host/settings';
import type { QueueGate } from './fixtures/host-start';

const FIXTURE = join(__dirname, 'fixtures', 'host-start.ts');
const quiet: HostLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  app: () => undefined,
};

let folder: string;
let taken: Server;
/** Answers every storage call 201, so the host's queue provisioning succeeds without Azurite. */
let storage: Server;
const saved = { ...process.env };

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const close = (server: Server) => new Promise((resolve) => server.close(resolve));

beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), 'saga-host-start-'));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ main: FIXTURE }));
  writeFileSync(join(folder, 'host.json'), '{}');
  taken = createServer();
  let delivered = false;
  storage = createServer((req, res) => {
    // The queue function's queue holds one message, handed out once.
    if (req.method === 'GET' && req.url?.includes('/host-start/messages') && !delivered) {
      delivered = true;
      const at = new Date().toUTCString();
      const text = Buffer.from('"hello"').toString('base64');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage><MessageId>m1</MessageId><InsertionTime>${at}</InsertionTime><ExpirationTime>${at}</ExpirationTime><PopReceipt>p1</PopReceipt><TimeNextVisible>${at}</TimeNextVisible><DequeueCount>1</DequeueCount><MessageText>${text}</MessageText></QueueMessage></QueueMessagesList>`,
      );
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="utf-8"?><QueueMessagesList></QueueMessagesList>');
      return;
    }
    res.writeHead(req.method === 'DELETE' ? 204 : 201).end();
  });
  const storagePort = await listen(storage);
  // Configured dependencies: the host starts no embedded ones.
  process.env.COSMOS_ENDPOINT = 'http://127.0.0.1:1';
  process.env.AzureWebJobsStorage = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;QueueEndpoint=http://127.0.0.1:${storagePort}/devstoreaccount1;`;
});

afterEach(async () => {
  process.env = { ...saved };
  await close(taken);
  await close(storage);
  rmSync(folder, { recursive: true, force: true });
});

/** This process's OS threads: a worker thread is one of them until it has stopped. */
function threads(): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

/** Descriptors of this process open on files under `dir`. */
function descriptorsUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

it('port taken: says so, and stops the worker thread it started, closes the store and frees the data folder', async () => {
  const port = await listen(taken);
  const settings = readSettings({ APP_ROOT: folder, DATA_DIR: join(folder, 'data'), PORT: String(port) });
  const before = threads();

  await expect(startHost(settings, quiet)).rejects.toThrow(`port ${port} is in use: stop what uses it or set PORT`);

  expect(threads()).toBe(before);
  expect(descriptorsUnder(folder)).toEqual([]);
  expect(existsSync(lockFile(settings.dataDir))).toBe(false);
});

it('a shutdown whose last flush fails reports it, and still stops the thread, closes the store and frees the data folder', async () => {
  const settings = readSettings({ APP_ROOT: folder, DATA_DIR: join(folder, 'data'), PORT: '0' });
  const before = threads();
  const host = await startHost(settings, quiet);
  // The store's log cannot be opened: its first flush fails (a full or failing disk, as far as the host can tell).
  mkdirSync(join(settings.dataDir, 'durable', 'instances', LOG_FILE));
  host.engine!.startNew('thread_calls', { input: 'x' });
  await expect(host.engine!.store.flushed!()).rejects.toThrow('EISDIR');

  await expect(host.close()).rejects.toThrow('EISDIR');

  expect(threads()).toBe(before);
  expect(descriptorsUnder(folder)).toEqual([]);
  expect(existsSync(lockFile(settings.dataDir))).toBe(false);
});

it('stop: the front takes no new request from the first moment, also while a queue-triggered function still runs', async () => {
  let running!: () => void;
  let finish!: () => void;
  const queueRunning = new Promise<void>((resolve) => (running = resolve));
  (globalThis as { hostStartQueue?: QueueGate }).hostStartQueue = {
    running,
    finish: new Promise<void>((resolve) => (finish = resolve)),
  };
  const settings = readSettings({ APP_ROOT: folder, DATA_DIR: join(folder, 'data'), PORT: '0' });
  const host = await startHost(settings, quiet);
  await queueRunning;
  expect((await fetch(`${host.origin}/runtime/webhooks/durabletask/instances`)).status).toBe(200);

  const closed = host.close();
  await new Promise((resolve) => setImmediate(resolve));
  await expect(fetch(`${host.origin}/runtime/webhooks/durabletask/instances`)).rejects.toThrow();

  finish();
  await expect(closed).resolves.toBe(true);
});

/** Processes working in `dir` (the embedded dependencies run with the data folder as their cwd). */
function processesIn(dir: string): number[] {
  return readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    try {
      return readlinkSync(`/proc/${name}/cwd`) === dir && isRunning(Number(name)) ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

describe('a host killed while it starts its embedded dependencies', () => {
  const started: number[] = [];
  afterEach(() => {
    for (const pid of [...started, ...processesIn(join(folder, 'data'))]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Not a group leader, or gone.
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  });

  it('leaves no dependency that `npm run stop` cannot find: the one still starting is recorded and stopped', async () => {
    const dataDir = join(folder, 'data');
    const env: NodeJS.ProcessEnv = { ...saved, DATA_DIR: dataDir, APP_ROOT: folder, PORT: '0', LOG_LEVEL: 'critical' };
    delete env.COSMOS_ENDPOINT;
    delete env.AzureWebJobsStorage;
    const host = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../local/host/main.ts')], {
      cwd: join(__dirname, '../..'),
      env,
      stdio: 'ignore',
    });
    started.push(host.pid!);
    const exited = new Promise((resolve) => host.once('exit', resolve));
    // The embedded Cosmos server has been spawned: the host waits for it to be ready.
    for (let waited = 0; processesIn(dataDir).length === 0; waited += 10) {
      if (waited > 30_000) throw new Error('the host started no embedded Cosmos server');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    host.kill('SIGKILL');
    await exited;
    const readyLine = /connections at/.test(readFileSync(join(dataDir, 'logs', 'cosmos.log'), 'utf8'));
    expect(readyLine).toBe(false); // killed before the server was ready, the case under test
    expect(processesIn(dataDir)).not.toEqual([]);

    await stopDependencies(dataDir); // what `npm run stop` does

    expect(processesIn(dataDir)).toEqual([]);
  });
});
