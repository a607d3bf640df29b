/**
 * `npm run start:func [-- func start options]`: the app under Azure Functions Core Tools, for
 * those who have it. Starts what local.settings.json points at on this machine and is not
 * running yet (Azurite on its default ports; the local Cosmos server on 8081), creates the
 * databases and the demo catalog, builds, then runs `func start`. Everything it started stops
 * with it, and all of it is in memory: each run starts from a clean slate.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { startCosmosServer, stopProcess } from '../local/dependencies/cosmos-server';

const ROOT = resolve(__dirname, '..');
const SETTINGS = join(ROOT, 'local.settings.json');
const SAMPLE = join(ROOT, 'local.settings.sample.json');

export const FUNC_MISSING = `Azure Functions Core Tools (\`func\`) is not on PATH.
Install Core Tools v4 (https://learn.microsoft.com/azure/azure-functions/functions-run-local),
or run the app without it: \`npm start\` (the offline host, no Core Tools needed).`;

function onPath(command: string): boolean {
  const extensions = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';') : [''];
  return (process.env.PATH ?? '').split(delimiter).some((folder) =>
    extensions.some((extension) => {
      try {
        accessSync(join(folder, command + extension), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** Creates local.settings.json from the sample, or adds the sample's settings it lacks. */
function ensureLocalSettings(): Record<string, string> {
  const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { Values: Record<string, string> };
  const current = existsSync(SETTINGS)
    ? (JSON.parse(readFileSync(SETTINGS, 'utf8')) as { Values?: Record<string, string> })
    : undefined;
  const missing = Object.keys(sample.Values).filter((key) => current?.Values?.[key] === undefined);
  if (!current || missing.length > 0) {
    const values = { ...sample.Values, ...current?.Values };
    writeFileSync(SETTINGS, `${JSON.stringify({ ...sample, ...current, Values: values }, null, 2)}\n`);
    console.log(
      current
        ? `local.settings.json: added ${missing.join(', ')} from the sample`
        : 'local.settings.json: created from the sample',
    );
  }
  return { ...sample.Values, ...current?.Values };
}

/** Something already serves this port: the user's own emulator, or an earlier run. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

async function main(): Promise<void> {
  if (!onPath('func')) {
    console.error(FUNC_MISSING);
    process.exit(1);
  }
  const values = ensureLocalSettings();
  const started: { name: string; stop(): Promise<void> }[] = [];
  const stopAll = () => Promise.all(started.map((entry) => entry.stop().catch(() => undefined)));
  const fail = async (step: string) => {
    console.error(`start:func: ${step} failed`);
    await stopAll();
    process.exit(1);
  };

  // The Durable extension keeps its task hub in Azure Storage: blob, queue and table, all three.
  if (values.AzureWebJobsStorage === 'UseDevelopmentStorage=true' && !(await listening(10000))) {
    const azurite = spawn(
      process.execPath,
      [
        require.resolve('azurite/dist/src/azurite.js'),
        '--silent',
        '--inMemoryPersistence',
        '--disableTelemetry',
        '--skipApiVersionCheck',
      ],
      {
        stdio: 'ignore',
        cwd: mkdirp(join(ROOT, '.data', 'func')),
      },
    );
    started.push({ name: 'Azurite', stop: () => stopChild(azurite) });
    console.log('started Azurite (blob 10000, queue 10001, table 10002, in memory)');
  }
  const endpoint = new URL(values.COSMOS_ENDPOINT ?? 'http://127.0.0.1:8081');
  if (['127.0.0.1', 'localhost'].includes(endpoint.hostname)) {
    if (endpoint.protocol === 'http:' && !(await listening(Number(endpoint.port || 80)))) {
      const cosmos = await startCosmosServer({ port: Number(endpoint.port || 80) });
      started.push({ name: 'local Cosmos server', stop: cosmos.stop });
      console.log(`started the local Cosmos server at ${cosmos.endpoint} (in memory)`);
    }
    const seed = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'seed.ts')], {
      stdio: 'inherit',
      env: {
        ...process.env,
        COSMOS_ENDPOINT: endpoint.href.replace(/\/$/, ''),
        COSMOS_KEY: values.COSMOS_KEY ?? process.env.COSMOS_KEY,
      },
    });
    if (seed.status !== 0) return fail('seeding');
  }

  const build = spawnSync('npm', ['run', 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (build.status !== 0) return fail('npm run build');

  const func = spawn('func', ['start', ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  // Ctrl-C reaches func from the terminal; this process only waits for it to finish.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => func.kill('SIGTERM'));
  func.on('exit', (code) => void stopAll().then(() => process.exit(code ?? 1)));
}

function mkdirp(folder: string): string {
  mkdirSync(folder, { recursive: true });
  return folder;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && child.exitCode === null) await stopProcess(child.pid);
}

// Run as a command, not when a test imports the message above.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`start:func: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
