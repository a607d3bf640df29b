/**
 * Runs the local Cosmos DB server (@vercel/cosmosdb-server, a real Cosmos-protocol server) as a
 * child process on loopback, so tests and the offline host get a database without the emulator.
 * A child process, not in-process, so it can be stopped by PID whatever state the tests leave.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The server with keep-alive (its own CLI closes every connection after one request): see the script. */
export const COSMOS_SERVER_SCRIPT = join(__dirname, 'cosmosdb-server.js');

export interface RunningCosmos {
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startCosmosServer(options: { port?: number; timeoutMs?: number } = {}): Promise<RunningCosmos> {
  const child = spawn(
    process.execPath,
    [COSMOS_SERVER_SCRIPT, '--host', '127.0.0.1', '--port', String(options.port ?? 0)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`local Cosmos server did not start: ${output}`)),
      options.timeoutMs ?? 15_000,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`local Cosmos server exited with ${code}: ${output}`)));
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /connections at ([\d.]+):(\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(`http://${ready[1]}:${ready[2]}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  child.stdout.resume();
  child.stderr.resume();
  return {
    endpoint,
    pid: child.pid!,
    stop: () => stopProcess(child.pid!),
  };
}

/** Stops a process by PID, escalating to SIGKILL if it does not go quietly. */
export async function stopProcess(pid: number, graceMs = 2000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGKILL');
}
