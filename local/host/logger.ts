/**
 * The host's console output: one line per event with time and source, like Core Tools prints,
 * and the app's `context.log` output at or above LOG_LEVEL.
 */
import { format } from 'node:util';
import type { LogHandler } from '../engine/episode';

const LEVELS = ['trace', 'debug', 'information', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function parseLogLevel(text: string | undefined): LogLevel {
  const level = (text ?? 'information').trim().toLowerCase();
  const aliases: Record<string, LogLevel> = { info: 'information', warn: 'warning' };
  const resolved = aliases[level] ?? level;
  if (!(LEVELS as readonly string[]).includes(resolved))
    throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}; got "${text}"`);
  return resolved as LogLevel;
}

export interface HostLogger {
  /** A message of the host itself. */
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  /** Receives the app's logs from the engine (activities, orchestrations, HTTP functions). */
  app: LogHandler;
}

/**
 * Lines written to stdout once per turn of the event loop, not one by one: stdout to a pipe or a
 * file is a blocking write, and a busy host logs a few lines per step of every order. Whatever is
 * still held when the process exits is written then.
 */
export function batchedStdout(stream: NodeJS.WritableStream = process.stdout): (line: string) => void {
  let held: string[] = [];
  const flush = () => {
    if (held.length === 0) return;
    const text = held.join('');
    held = [];
    stream.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (held.push(`${line}\n`) === 1) setImmediate(flush);
  };
}

export function createLogger(minimum: LogLevel, write: (line: string) => void = batchedStdout()): HostLogger {
  const enabled = (level: string) =>
    LEVELS.indexOf(level as LogLevel) >= LEVELS.indexOf(minimum) || !(LEVELS as readonly string[]).includes(level);
  const line = (source: string, level: string, text: string) =>
    write(`[${new Date().toISOString()}] ${level.padEnd(11)} ${source}: ${text}`);
  return {
    info: (message) => enabled('information') && line('host', 'information', message),
    warn: (message) => enabled('warning') && line('host', 'warning', message),
    error: (message, error) => line('host', 'error', error === undefined ? message : `${message}: ${format(error)}`),
    app: (level, functionName, ...args) => {
      if (enabled(level)) line(functionName, level, format(...args));
    },
  };
}
