/**
 * The offline host's embedded dependencies: the local Cosmos DB server and Azurite (blob, queue
 * and table services), each started only when the environment does not configure one
 * (COSMOS_ENDPOINT, AzureWebJobsStorage). The Cosmos server keeps its data in memory, so it must
 * outlive the host for a restart (graceful or SIGKILL) to find the data the durable store refers
 * to: both run detached, and DATA_DIR/dependencies.json records them for the next start and for
 * `npm run stop`. Azurite keeps its data on disk under DATA_DIR/azurite (the dead-letter queue,
 * and the extension backend's task hub), so it survives Azurite's own restart too; it is emptied
 * only with the Cosmos data it refers to.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COSMOS_SERVER_SCRIPT } from '../dependencies/cosmos-server';
import { answers, isOurProcess, startDetached, stopGroup } from './processes';

/** Azurite's documented development account (public; it only opens a local emulator). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The marker is in both launchers' command lines: cosmosdb-server.js, and the package's own CLI of older data folders. */
const COSMOS = { name: 'local Cosmos server', marker: 'cosmosdb-server' };
const AZURITE = { name: 'Azurite', marker: 'azurite' };

export const azuriteLocation = (dataDir: string) => join(dataDir, 'azurite');

interface DependencyRecord {
  pid: number;
  /** Empty while the process is starting: recorded at once, so a host killed meanwhile leaves no process unknown. */
  endpoint: string;
  startedAt: string;
}

interface DependencyState {
  /** Names the data in the embedded Cosmos server: a new server, a new generation. */
  generation: string;
  cosmos?: DependencyRecord;
  azurite?: DependencyRecord & { connectionString: string };
}

export interface Dependencies {
  cosmosEndpoint: string;
  /** The AzureWebJobsStorage value the app reaches its queues with. */
  storageConnection?: string;
  /**
   * What the app's data is: the durable store is only valid against the same data, so the host
   * empties it when this changes (e.g. a new embedded Cosmos server after a reboot).
   */
  dataIdentity: string;
  /** The embedded Cosmos server was started now, empty: it needs its databases and catalog. */
  freshCosmos: boolean;
}

export interface DependencyOptions {
  dataDir: string;
  env?: Record<string, string | undefined>;
  log: { info(message: string): void; warn(message: string): void };
}

export const stateFile = (dataDir: string) => join(dataDir, 'dependencies.json');

export async function ensureDependencies(options: DependencyOptions): Promise<Dependencies> {
  const env = options.env ?? process.env;
  const configuredCosmos = env.COSMOS_ENDPOINT?.trim();
  const configuredStorage = env.AzureWebJobsStorage?.trim() || env.AzureWebJobsStorage__queueServiceUri?.trim();
  mkdirSync(join(options.dataDir, 'logs'), { recursive: true });

  const previous = readState(options.dataDir);
  const cosmosAlive =
    !configuredCosmos && previous?.cosmos !== undefined && (await isAlive(previous.cosmos, COSMOS.marker));
  const azuriteAlive =
    !configuredStorage && previous?.azurite !== undefined && (await isAlive(previous.azurite, AZURITE.marker));

  let state: DependencyState;
  let freshCosmos = false;
  if (!configuredCosmos && !cosmosAlive) {
    // The app's data is gone (or never was): start every embedded process afresh, so that the
    // queues and the store start over with it.
    if (previous?.cosmos)
      options.log.warn(
        previous.cosmos.endpoint
          ? `the embedded ${COSMOS.name} (pid ${previous.cosmos.pid}) is gone: its data is lost, starting a new one`
          : `the embedded ${COSMOS.name} (pid ${previous.cosmos.pid}) never finished starting: starting a new one`,
      );
    await stopRecorded(previous);
    state = { generation: randomUUID() };
    writeState(options.dataDir, state);
    // Azurite's data (dead letters, the extension's task hub) refers to the lost Cosmos data.
    rmSync(azuriteLocation(options.dataDir), { recursive: true, force: true });
    state.cosmos = await startCosmos(options.dataDir, (pid) => {
      state.cosmos = starting(pid);
      writeState(options.dataDir, state);
    });
    writeState(options.dataDir, state);
    freshCosmos = true;
    options.log.info(`started the embedded ${COSMOS.name} at ${state.cosmos.endpoint} (pid ${state.cosmos.pid})`);
  } else {
    state = previous ?? { generation: randomUUID() };
    if (!configuredCosmos)
      options.log.info(`reusing the embedded ${COSMOS.name} at ${state.cosmos!.endpoint} (pid ${state.cosmos!.pid})`);
  }

  if (!configuredStorage && !(azuriteAlive && !freshCosmos)) {
    if (state.azurite && !freshCosmos)
      options.log.warn(
        `the embedded ${AZURITE.name} (pid ${state.azurite.pid}) is gone: starting it again on its data in ${azuriteLocation(options.dataDir)}`,
      );
    if (state.azurite && isOurProcess(state.azurite.pid, AZURITE.marker)) await stopGroup(state.azurite.pid);
    state.azurite = await startAzurite(options.dataDir, env.AZURITE_ACCESS_LOG === '1', (pid) => {
      state.azurite = { ...starting(pid), connectionString: '' };
      writeState(options.dataDir, state);
    });
    writeState(options.dataDir, state);
    options.log.info(`started the embedded ${AZURITE.name} at ${state.azurite.endpoint} (pid ${state.azurite.pid})`);
  } else if (!configuredStorage) {
    options.log.info(`reusing the embedded ${AZURITE.name} at ${state.azurite!.endpoint} (pid ${state.azurite!.pid})`);
  }

  return {
    cosmosEndpoint: configuredCosmos ?? state.cosmos!.endpoint,
    storageConnection: configuredStorage ? undefined : state.azurite!.connectionString,
    dataIdentity: configuredCosmos ? `cosmos ${configuredCosmos}` : `embedded cosmos ${state.generation}`,
    freshCosmos,
  };
}

/** `npm run stop`: stops the recorded embedded processes. Returns what it stopped. */
export async function stopDependencies(dataDir: string): Promise<string[]> {
  const state = readState(dataDir);
  const stopped = await stopRecorded(state);
  rmSync(stateFile(dataDir), { force: true });
  return stopped;
}

async function stopRecorded(state: DependencyState | undefined): Promise<string[]> {
  const stopped: string[] = [];
  for (const [record, kind] of [
    [state?.cosmos, COSMOS],
    [state?.azurite, AZURITE],
  ] as const) {
    if (!record || !isOurProcess(record.pid, kind.marker)) continue;
    await stopGroup(record.pid);
    stopped.push(`${kind.name} (pid ${record.pid})`);
  }
  return stopped;
}

async function isAlive(record: DependencyRecord, marker: string): Promise<boolean> {
  return record.endpoint !== '' && isOurProcess(record.pid, marker) && (await answers(record.endpoint));
}

const starting = (pid: number): DependencyRecord => ({ pid, endpoint: '', startedAt: new Date().toISOString() });

async function startCosmos(dataDir: string, onSpawned: (pid: number) => void): Promise<DependencyRecord> {
  const { pid, ready } = await startDetached({
    name: COSMOS.name,
    onSpawned,
    args: [COSMOS_SERVER_SCRIPT, '--host', '127.0.0.1', '--port', '0'],
    cwd: dataDir,
    logFile: join(dataDir, 'logs', 'cosmos.log'),
    readyPattern: /connections at ([\d.]+):(\d+)/,
  });
  return { pid, endpoint: `http://${ready[1]}:${ready[2]}`, startedAt: new Date().toISOString() };
}

/**
 * With `accessLog` (AZURITE_ACCESS_LOG=1, what the bench sets to count storage transactions),
 * Azurite writes one line per request of its three services to logs/azurite.log.
 */
async function startAzurite(
  dataDir: string,
  accessLog: boolean,
  onSpawned: (pid: number) => void,
): Promise<DependencyRecord & { connectionString: string }> {
  const cli = require.resolve('azurite/dist/src/azurite.js');
  const location = azuriteLocation(dataDir);
  mkdirSync(location, { recursive: true });
  const { pid, ready } = await startDetached({
    name: AZURITE.name,
    onSpawned,
    // On disk: dead letters (and the extension backend's task hub) survive Azurite's restart.
    args: [
      cli,
      '--location',
      location,
      ...(accessLog ? [] : ['--silent']),
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      '0',
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      '0',
    ],
    cwd: dataDir,
    logFile: join(dataDir, 'logs', 'azurite.log'),
    readyPattern:
      /Blob service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)[\s\S]*Queue service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)[\s\S]*Table service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/,
  });
  const endpoint = (port: string) => `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  return {
    pid,
    endpoint: endpoint(ready[2]),
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};BlobEndpoint=${endpoint(ready[1])};QueueEndpoint=${endpoint(ready[2])};TableEndpoint=${endpoint(ready[3])};`,
    startedAt: new Date().toISOString(),
  };
}

function readState(dataDir: string): DependencyState | undefined {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DependencyState;
  } catch {
    return undefined;
  }
}

function writeState(dataDir: string, state: DependencyState): void {
  const file = stateFile(dataDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
