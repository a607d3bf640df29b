/**
 * An InstanceStore on disk, so orchestration instances survive a restart of the offline host:
 * an append-only log (`records.log`, one line per change), written by group commit.
 *
 * `put` and `delete` change the in-memory state at once (synchronous, like the interface: the
 * engine's check-then-create must not interleave) and mark the instance changed. One flush, in
 * the background, appends a line for every instance changed since the last one and flushes the
 * disk once (one fsync for many records, off the event loop). `flushed()` resolves when everything
 * put so far is on disk.
 *
 * A line carries only what the log lacks: a record whose log already holds its execution's
 * history up to some event is written as its other fields plus the events after it (an `A` line);
 * a new record, or a new execution of an instance id, whole (a `P` line); a delete as a `D` line.
 * History only ever grows within an execution, so an order's ~25 changes write each of its ~50
 * events once instead of rewriting the whole record every time.
 *
 * What "acknowledged" means: the host answers no HTTP request before `flushed()` (see
 * host-handler.ts). So anything a client was told (an order accepted, an event raised, a status
 * it read) survives a crash; work the engine did but nobody was told about may be lost and is
 * done again after recovery, which every activity tolerates (at-least-once delivery).
 *
 * The log is rewritten with only the live records, whole (compaction), when it grows to several
 * times their size. Loading reads it once; a torn last line (a crash mid-append) is cut off.
 * Reads are served from what this process loaded or wrote: the host is the only writer of its
 * data folder (it holds a lock on it), so that cannot go stale.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { eventJson, type HistoryEvent } from './history';
import type { InstanceRecord, InstanceStore, InstanceSummary } from './store';

export interface FileInstanceStoreOptions {
  /**
   * Flush every batch to the disk before acknowledging it (default true): survives power loss and
   * OS crashes, not just a killed process. Off, a flushed batch still survives the process dying.
   */
  fsync?: boolean;
  /** Told about log lines (or old record files) that cannot be read; they are set aside as `*.corrupt`. */
  onCorrupt?: (file: string, error: unknown) => void;
  /** Never compact a log smaller than this (default 8 MiB); tests set it low to see compactions. */
  minCompactBytes?: number;
}

export const LOG_FILE = 'records.log';
/** Compact when the log is this many times the live records' size (and at least MIN_COMPACT_BYTES). */
const COMPACT_RATIO = 4;
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;

/** A record as kept in memory: its fields but the history as JSON, and each history event's JSON. */
interface Entry {
  executionId: string;
  head: string;
  events: string[];
  /** head and events, in UTF-16 units: for the compaction ratio. */
  size: number;
}

/** What the log holds of an instance: its execution, how many events, and the last one. */
interface Logged {
  executionId: string;
  events: number;
  lastEvent: string | undefined;
}

/** An `A` line: a record's other fields and the events after the first `from` of its history. */
interface Delta {
  instanceId: string;
  from: number;
  record: Omit<InstanceRecord, 'history'>;
  events: HistoryEvent[];
}

interface Waiter {
  sequence: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class FileInstanceStore implements InstanceStore {
  private readonly entries = new Map<string, Entry>();
  private readonly summaries = new Map<string, InstanceSummary>();
  /** By instance: what the lines handed to flushes so far hold. */
  private readonly logged = new Map<string, Logged>();
  private readonly fsync: boolean;
  private readonly logFile: string;
  /** Instances changed since the last batch was taken; their lines are made when it is. */
  private changed = new Set<string>();
  private queuedSequence = 0;
  private durableSequence = 0;
  private flushing: Promise<void> | undefined;
  private waiters: Waiter[] = [];
  private handle: FileHandle | undefined;
  private logBytes = 0;
  private liveBytes = 0;
  private failure: unknown;
  /** Counters for the benchmark: batches flushed and records they carried. */
  readonly stats = { flushes: 0, records: 0, compactions: 0 };

  constructor(
    readonly directory: string,
    private readonly options: FileInstanceStoreOptions = {},
  ) {
    this.fsync = options.fsync ?? true;
    this.logFile = join(directory, LOG_FILE);
    mkdirSync(directory, { recursive: true });
    this.load();
  }

  get(instanceId: string): InstanceRecord | undefined {
    const entry = this.entries.get(instanceId);
    return entry === undefined ? undefined : (JSON.parse(recordJson(entry)) as InstanceRecord);
  }

  getWithoutHistory(instanceId: string): Omit<InstanceRecord, 'history'> | undefined {
    const entry = this.entries.get(instanceId);
    return entry === undefined ? undefined : (JSON.parse(entry.head) as Omit<InstanceRecord, 'history'>);
  }

  put(record: InstanceRecord): void {
    const { history, ...fields } = record;
    const entry = entryOf(record.executionId, JSON.stringify(fields), history.map(eventJson));
    this.remember(record.instanceId, entry, summaryOf(record));
    this.markChanged(record.instanceId);
  }

  delete(instanceId: string): boolean {
    if (!this.entries.has(instanceId)) return false;
    this.forget(instanceId);
    this.markChanged(instanceId);
    return true;
  }

  list(where?: (summary: InstanceSummary) => boolean): InstanceRecord[] {
    const ids = where
      ? [...this.summaries.values()].filter(where).map((summary) => summary.instanceId)
      : [...this.entries.keys()];
    return ids.map((id) => JSON.parse(recordJson(this.entries.get(id)!)) as InstanceRecord);
  }

  /** Resolves when every put and delete so far is on disk; rejects if a flush failed. */
  flushed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.durableSequence >= this.queuedSequence) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ sequence: this.queuedSequence, resolve, reject }));
  }

  /** Flushes what is queued and closes the log; after a failed flush, closes it and rejects with the failure. */
  async close(): Promise<void> {
    try {
      await this.flushed();
    } finally {
      await this.flushing;
      await this.handle?.close();
      this.handle = undefined;
    }
  }

  private remember(instanceId: string, entry: Entry, summary: InstanceSummary): void {
    this.liveBytes += entry.size - (this.entries.get(instanceId)?.size ?? 0);
    this.entries.set(instanceId, entry);
    this.summaries.set(instanceId, summary);
  }

  private forget(instanceId: string): void {
    this.liveBytes -= this.entries.get(instanceId)?.size ?? 0;
    this.entries.delete(instanceId);
    this.summaries.delete(instanceId);
  }

  private markChanged(instanceId: string): void {
    this.changed.add(instanceId);
    this.queuedSequence += 1;
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
  }

  /** The line that brings the log's copy of an instance up to date, and what the log holds after it. */
  private lineFor(instanceId: string): string {
    const entry = this.entries.get(instanceId);
    const logged = this.logged.get(instanceId);
    if (!entry) {
      this.logged.delete(instanceId);
      return `D${JSON.stringify(instanceId)}\n`;
    }
    this.logged.set(instanceId, loggedOf(entry));
    if (!logged || !extendsLogged(entry, logged)) return `P${recordJson(entry)}\n`;
    const events = entry.events.slice(logged.events).join(',');
    return `A{"instanceId":${JSON.stringify(instanceId)},"from":${logged.events},"record":${entry.head},"events":[${events}]}\n`;
  }

  /** One batch after another until nothing is queued: whatever arrives during a flush goes in the next. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.changed.size > 0 && this.failure === undefined) {
        const lines = [...this.changed].map((instanceId) => this.lineFor(instanceId));
        const sequence = this.queuedSequence;
        this.changed = new Set();
        await this.append(lines);
        this.durableSequence = sequence;
        this.stats.flushes += 1;
        this.stats.records += lines.length;
        this.settleWaiters();
        if (this.logBytes > Math.max(this.options.minCompactBytes ?? MIN_COMPACT_BYTES, COMPACT_RATIO * this.liveBytes))
          await this.compact();
      }
    } catch (error) {
      this.failure = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    } finally {
      this.flushing = undefined;
    }
  }

  private settleWaiters(): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.sequence <= this.durableSequence) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  private async append(lines: string[]): Promise<void> {
    this.handle ??= await open(this.logFile, 'a');
    const buffer = Buffer.from(lines.join(''), 'utf8');
    let offset = 0;
    while (offset < buffer.length) offset += (await this.handle.write(buffer, offset)).bytesWritten;
    if (this.fsync) await this.handle.datasync();
    this.logBytes += buffer.length;
  }

  /**
   * Rewrites the log with only the live records: a new file, flushed, renamed over the old one,
   * the folder flushed. A crash at any point leaves the old log or the new one, both complete.
   */
  private async compact(): Promise<void> {
    const next = `${this.logFile}.next`;
    // Taken now: later changes are still marked, and go into the new log by the next flush.
    const buffer = Buffer.from(this.wholeRecordLines(), 'utf8');
    const handle = await open(next, 'w');
    try {
      let offset = 0;
      while (offset < buffer.length) offset += (await handle.write(buffer, offset)).bytesWritten;
      if (this.fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    renameSync(next, this.logFile);
    this.syncDirectory();
    this.logBytes = buffer.length;
    this.stats.compactions += 1;
  }

  private load(): void {
    const legacy = this.loadRecordFiles();
    if (existsSync(`${this.logFile}.next`)) unlinkSync(`${this.logFile}.next`); // a compaction that never reached its rename
    if (existsSync(this.logFile)) this.loadLog();
    if (legacy.length > 0) {
      // Records of the one-file-per-instance layout: carried into the log, then removed.
      this.writeLogNow();
      for (const file of legacy) unlinkSync(file);
      this.syncDirectory();
    }
  }

  private loadLog(): void {
    const content = readFileSync(this.logFile);
    let start = 0;
    let good = 0;
    while (start < content.length) {
      const end = content.indexOf(0x0a, start);
      if (end === -1) break; // a torn last line: that append never finished
      const line = content.subarray(start, end).toString('utf8');
      try {
        if (line.startsWith('P')) {
          this.rememberWhole(JSON.parse(line.slice(1)) as InstanceRecord);
        } else if (line.startsWith('A')) {
          this.applyDelta(JSON.parse(line.slice(1)) as Delta);
        } else if (line.startsWith('D')) {
          this.forget(JSON.parse(line.slice(1)) as string);
        } else throw new Error('not a record line');
      } catch (error) {
        // Appends only ever tear at the end; anything past a bad line is not trusted.
        this.setAside(content.subarray(start), error);
        break;
      }
      start = end + 1;
      good = end + 1;
    }
    if (good < content.length) this.truncateTo(good);
    this.logBytes = good;
    for (const [instanceId, entry] of this.entries) this.logged.set(instanceId, loggedOf(entry));
  }

  private rememberWhole(record: InstanceRecord): void {
    if (typeof record.instanceId !== 'string') throw new Error('a record without an instance id');
    const { history, ...fields } = record;
    const events = (history ?? []).map((event) => JSON.stringify(event));
    this.remember(record.instanceId, entryOf(record.executionId, JSON.stringify(fields), events), summaryOf(record));
  }

  private applyDelta(delta: Delta): void {
    const entry = this.entries.get(delta.instanceId);
    if (!entry || entry.executionId !== delta.record.executionId || entry.events.length < delta.from)
      throw new Error(`a change of ${delta.instanceId} without the record it changes`);
    const events = [...entry.events.slice(0, delta.from), ...delta.events.map((event) => JSON.stringify(event))];
    this.remember(
      delta.instanceId,
      entryOf(entry.executionId, JSON.stringify(delta.record), events),
      summaryOf(delta.record),
    );
  }

  /** Every live record as a whole (`P`) line; from here on the log holds exactly these. */
  private wholeRecordLines(): string {
    this.logged.clear();
    for (const [instanceId, entry] of this.entries) this.logged.set(instanceId, loggedOf(entry));
    return [...this.entries.values()].map((entry) => `P${recordJson(entry)}\n`).join('');
  }

  private setAside(rest: Buffer, error: unknown): void {
    const file = `${this.logFile}.${Date.now()}.corrupt`;
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, rest);
    } finally {
      closeSync(fd);
    }
    (this.options.onCorrupt ?? defaultOnCorrupt)(file, error);
  }

  private truncateTo(bytes: number): void {
    const fd = openSync(this.logFile, 'r+');
    try {
      // ftruncate through the descriptor, then flush: the cut is durable before anything is appended after it.
      ftruncateSync(fd, bytes);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Rewrites the log from memory, synchronously (only while loading). */
  private writeLogNow(): void {
    const next = `${this.logFile}.next`;
    const content = this.wholeRecordLines();
    const fd = openSync(next, 'w');
    try {
      writeSync(fd, content);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(next, this.logFile);
    this.syncDirectory();
    this.logBytes = Buffer.byteLength(content);
  }

  /** `<sha256>.json` files of the earlier layout; unreadable ones are set aside as `*.corrupt`. */
  private loadRecordFiles(): string[] {
    const loaded: string[] = [];
    for (const name of readdirSync(this.directory)) {
      const file = join(this.directory, name);
      if (name.endsWith('.json.tmp') || /\.json\.\d+\.tmp$/.test(name)) {
        unlinkSync(file);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        this.rememberWhole(JSON.parse(readFileSync(file, 'utf8')) as InstanceRecord);
        loaded.push(file);
      } catch (error) {
        renameSync(file, `${file}.corrupt`);
        (this.options.onCorrupt ?? defaultOnCorrupt)(file, error);
      }
    }
    return loaded;
  }

  /** Makes a rename itself durable (it is an entry in the folder). */
  private syncDirectory(): void {
    if (!this.fsync) return;
    let fd: number | undefined;
    try {
      fd = openSync(this.directory, 'r');
      fsyncSync(fd);
    } catch (error) {
      // Some platforms (Windows) cannot open or flush a folder; the rename is still atomic there.
      if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

/** The record's JSON text, from its fields' text and its events' texts. */
function recordJson(entry: Entry): string {
  const { head, events } = entry;
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"history":[${events.join(',')}]}`;
}

function loggedOf(entry: Entry): Logged {
  return { executionId: entry.executionId, events: entry.events.length, lastEvent: entry.events.at(-1) };
}

/** Whether `entry` is what the log holds plus later events of the same execution. */
function extendsLogged(entry: Entry, logged: Logged): boolean {
  return (
    entry.executionId === logged.executionId &&
    entry.events.length >= logged.events &&
    (logged.events === 0 || entry.events[logged.events - 1] === logged.lastEvent)
  );
}

function entryOf(executionId: string, head: string, events: string[]): Entry {
  let size = head.length;
  for (const event of events) size += event.length;
  return { executionId, head, events, size };
}

function summaryOf(record: Omit<InstanceRecord, 'history'>): InstanceSummary {
  return { instanceId: record.instanceId, name: record.name, status: record.status, createdTime: record.createdTime };
}

function defaultOnCorrupt(file: string, error: unknown): void {
  console.warn(
    `durable store: set aside unreadable ${file} (${error instanceof Error ? error.message : String(error)})`,
  );
}
