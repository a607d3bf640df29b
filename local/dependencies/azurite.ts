/**
 * Runs Azurite's queue service as a child process on loopback (in memory), for tests and the
 * offline host: the app keeps its dead letters in an Azure Storage queue.
 */
import { spawn } from 'node:child_process';
import { stopProcess } from './cosmos-server';

/** Azurite's documented development account (public; it only opens a local emulator). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  queueEndpoint: string;
  /** A connection string for AzureWebJobsStorage. */
  connectionString: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startAzuriteQueues(options: { port?: number; timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const cli = require.resolve('azurite/dist/src/queue/main.js');
  const child = spawn(
    process.execPath,
    [
      cli,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(options.port ?? 0),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`Azurite did not start: ${output}`)), options.timeoutMs ?? 20_000);
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`Azurite exited with ${code}: ${output}`)));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(Number(ready[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  child.stdout.resume();
  child.stderr.resume();
  const queueEndpoint = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  return {
    queueEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_ACCOUNT_KEY};QueueEndpoint=${queueEndpoint};`,
    pid: child.pid!,
    stop: () => stopProcess(child.pid!),
  };
}
