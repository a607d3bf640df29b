/**
 * Processes that outlive the host: started detached (their own process group, output to a log
 * file), recognised again later by PID, command line and a TCP probe, and stopped by group.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

export interface DetachedProcess {
  pid: number;
  /** The first match of `readyPattern` in the process's output. */
  ready: RegExpExecArray;
}

/**
 * Starts `node <args>` in its own process group with stdout and stderr appended to `logFile`,
 * and waits until its output matches `readyPattern`.
 */
export async function startDetached(options: {
  args: string[];
  cwd: string;
  logFile: string;
  readyPattern: RegExp;
  timeoutMs?: number;
  name: string;
  /** Told the PID as soon as the process exists, before it is ready: to record it at once. */
  onSpawned?: (pid: number) => void;
}): Promise<DetachedProcess> {
  const log = openSync(options.logFile, 'w');
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  // The host must be free to exit (or be killed) while this process lives on.
  child.unref();
  if (child.pid) options.onSpawned?.(child.pid);
  let exited: number | null | undefined;
  child.once('exit', (code, signal) => (exited = code ?? (signal ? -1 : null)));
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const output = existsSync(options.logFile) ? readFileSync(options.logFile, 'utf8') : '';
    const ready = options.readyPattern.exec(output);
    if (ready && child.pid) return { pid: child.pid, ready };
    if (exited !== undefined) throw new Error(`${options.name} exited (${exited}) before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 20_000} ms:\n${output}`);
    }
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), spawnError]);
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * A process that exited but was not reaped yet still answers signal 0. Orphans are reaped by
 * PID 1, which in a container may never do it; /proc tells (state Z) where it exists.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is still the process we started: alive and, where /proc exists, running a
 * command line that mentions `marker` (a PID can be reused by another program after a reboot).
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isRunning(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    return readFileSync(cmdline, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections at the URL's host and port. */
export function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Signals a whole process group (the detached process and anything it started). */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM to the group, then SIGKILL if it is still there after `graceMs`. */
export async function stopGroup(pid: number, graceMs = 3000): Promise<void> {
  if (!isRunning(pid)) return;
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isRunning(pid)) killGroup(pid, 'SIGKILL');
}
