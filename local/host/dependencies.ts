/**
 * The offline host's embedded dependencies: the local Cosmos DB server and Azurite's queue
 * service, each started only when the environment does not configure one (COSMOS_ENDPOINT,
 * AzureWebJobsStorage). Both keep their data in memory, so they must outlive the host for a
 * restart (graceful or SIGKILL) to find the data the durable store refers to: they run detached,
 * and DATA_DIR/dependencies.json records them for the next start and for `npm run stop`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answers, isOurProcess, startDetached, stopGroup } from './processes';

/** Azurite's documented development account (public; it only opens a local emulator). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const COSMOS = { name: 'local Cosmos server', marker: 'cosmosdb-server' };
const AZURITE = { name: 'Azurite queues', marker: 'azurite' };

interface DependencyRecord {
  pid: number;
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
  const cosmosAlive = !configuredCosmos && previous?.cosmos !== undefined && (await isAlive(previous.cosmos, COSMOS.marker));
  const azuriteAlive = !configuredStorage && previous?.azurite !== undefined && (await isAlive(previous.azurite, AZURITE.marker));

  let state: DependencyState;
  let freshCosmos = false;
  if (!configuredCosmos && !cosmosAlive) {
    // The app's data is gone (or never was): start every embedded process afresh, so that the
    // queues and the store start over with it.
    if (previous?.cosmos) options.log.warn(`the embedded ${COSMOS.name} (pid ${previous.cosmos.pid}) is gone: its data is lost, starting a new one`);
    await stopRecorded(previous);
    state = { generation: randomUUID() };
    writeState(options.dataDir, state);
    state.cosmos = await startCosmos(options.dataDir);
    writeState(options.dataDir, state);
    freshCosmos = true;
    options.log.info(`started the embedded ${COSMOS.name} at ${state.cosmos.endpoint} (pid ${state.cosmos.pid})`);
  } else {
    state = previous ?? { generation: randomUUID() };
    if (!configuredCosmos) options.log.info(`reusing the embedded ${COSMOS.name} at ${state.cosmos!.endpoint} (pid ${state.cosmos!.pid})`);
  }

  if (!configuredStorage && !(azuriteAlive && !freshCosmos)) {
    if (state.azurite && !freshCosmos) options.log.warn(`the embedded ${AZURITE.name} (pid ${state.azurite.pid}) is gone: the dead-letter queue starts empty`);
    if (state.azurite && isOurProcess(state.azurite.pid, AZURITE.marker)) await stopGroup(state.azurite.pid);
    state.azurite = await startAzurite(options.dataDir);
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
  return isOurProcess(record.pid, marker) && (await answers(record.endpoint));
}

async function startCosmos(dataDir: string): Promise<DependencyRecord> {
  const cli = require.resolve('@vercel/cosmosdb-server/lib/cli.js');
  const { pid, ready } = await startDetached({
    name: COSMOS.name,
    args: [cli, '--no-ssl', '--host', '127.0.0.1', '--port', '0'],
    cwd: dataDir,
    logFile: join(dataDir, 'logs', 'cosmos.log'),
    readyPattern: /connections at ([\d.]+):(\d+)/,
  });
  return { pid, endpoint: `http://${ready[1]}:${ready[2]}`, startedAt: new Date().toISOString() };
}

async function startAzurite(dataDir: string): Promise<DependencyRecord & { connectionString: string }> {
  const cli = require.resolve('azurite/dist/src/queue/main.js');
  const { pid, ready } = await startDetached({
    name: AZURITE.name,
    // In memory like the Cosmos server: both hold the app's data, and both go together.
    args: [cli, '--inMemoryPersistence', '--silent', '--disableTelemetry', '--skipApiVersionCheck', '--queueHost', '127.0.0.1', '--queuePort', '0'],
    cwd: dataDir,
    logFile: join(dataDir, 'logs', 'azurite.log'),
    readyPattern: /listens on http:\/\/127\.0\.0\.1:(\d+)/,
  });
  const endpoint = `http://127.0.0.1:${ready[1]}/${DEV_ACCOUNT}`;
  return {
    pid,
    endpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};QueueEndpoint=${endpoint};`,
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
