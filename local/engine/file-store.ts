/**
 * An InstanceStore on disk, so orchestration instances survive a restart of the offline host:
 * an append-only log of whole records (`records.log`, one line per put or delete), written by
 * group commit.
 *
 * `put` and `delete` change the in-memory state at once (synchronous, like the interface: the
 * engine's check-then-create must not interleave) and queue the line. One flush, in the
 * background, appends every line queued since the last one and flushes the disk once (one fsync
 * for many records, off the event loop). `flushed()` resolves when everything put so far is on
 * disk.
 *
 * What "acknowledged" means: the host answers no HTTP request before `flushed()` (see
 * host-handler.ts). So anything a client was told (an order accepted, an event raised, a status
 * it read) survives a crash; work the engine did but nobody was told about may be lost and is
 * done again after recovery, which every activity tolerates (at-least-once delivery).
 *
 * The log is rewritten with only the live records (compaction) when it grows to several times
 * their size. Loading reads it once; a torn last line (a crash mid-append) is cut off. Reads are
 * served from the texts this process loaded or wrote: the host is the only writer of its data
 * folder (it holds a lock on it), so the cache cannot go stale.
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
import { historyJson } from './history';
import type { InstanceRecord, InstanceStore, InstanceSummary } from './store';

export interface FileInstanceStoreOptions {
  /**
   * Flush every batch to the disk before acknowledging it (default true): survives power loss and
   * OS crashes, not just a killed process. Off, a flushed batch still survives the process dying.
   */
  fsync?: boolean;
  /** Told about log lines (or old record files) that cannot be read; they are set aside as `*.corrupt`. */
  onCorrupt?: (file: string, error: unknown) => void;
}

export const LOG_FILE = 'records.log';
/** Compact when the log is this many times the live records' size (and at least MIN_COMPACT_BYTES). */
const COMPACT_RATIO = 4;
const MIN_COMPACT_BYTES = 8 * 1024 * 1024;

interface Waiter {
  sequence: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class FileInstanceStore implements InstanceStore {
  private readonly texts = new Map<string, string>();
  private readonly summaries = new Map<string, InstanceSummary>();
  private readonly fsync: boolean;
  private readonly logFile: string;
  /** Lines not yet handed to a flush, by instance (a later put replaces an earlier one). */
  private queued = new Map<string, string>();
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
    const text = this.texts.get(instanceId);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord);
  }

  put(record: InstanceRecord): void {
    const text = recordText(record);
    this.remember(record.instanceId, text, summaryOf(record));
    this.enqueue(record.instanceId, `P${text}\n`);
  }

  delete(instanceId: string): boolean {
    if (!this.texts.has(instanceId)) return false;
    this.forget(instanceId);
    this.enqueue(instanceId, `D${JSON.stringify(instanceId)}\n`);
    return true;
  }

  list(where?: (summary: InstanceSummary) => boolean): InstanceRecord[] {
    const ids = where
      ? [...this.summaries.values()].filter(where).map((summary) => summary.instanceId)
      : [...this.texts.keys()];
    return ids.map((id) => JSON.parse(this.texts.get(id)!) as InstanceRecord);
  }

  /** Resolves when every put and delete so far is on disk; rejects if a flush failed. */
  flushed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.durableSequence >= this.queuedSequence) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ sequence: this.queuedSequence, resolve, reject }));
  }

  /** Flushes what is queued and closes the log. */
  async close(): Promise<void> {
    await this.flushed();
    await this.flushing;
    await this.handle?.close();
    this.handle = undefined;
  }

  private remember(instanceId: string, text: string, summary: InstanceSummary): void {
    this.liveBytes += text.length - (this.texts.get(instanceId)?.length ?? 0);
    this.texts.set(instanceId, text);
    this.summaries.set(instanceId, summary);
  }

  private forget(instanceId: string): void {
    this.liveBytes -= this.texts.get(instanceId)?.length ?? 0;
    this.texts.delete(instanceId);
    this.summaries.delete(instanceId);
  }

  private enqueue(instanceId: string, line: string): void {
    this.queued.delete(instanceId); // keeps the map in the order of the latest change
    this.queued.set(instanceId, line);
    this.queuedSequence += 1;
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop());
  }

  /** One batch after another until nothing is queued: whatever arrives during a flush goes in the next. */
  private async flushLoop(): Promise<void> {
    try {
      while (this.queued.size > 0 && this.failure === undefined) {
        const lines = [...this.queued.values()];
        const sequence = this.queuedSequence;
        this.queued = new Map();
        await this.append(lines);
        this.durableSequence = sequence;
        this.stats.flushes += 1;
        this.stats.records += lines.length;
        this.settleWaiters();
        if (this.logBytes > Math.max(MIN_COMPACT_BYTES, COMPACT_RATIO * this.liveBytes)) await this.compact();
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
    // Taken now: later changes are still queued, and go into the new log by the next flush.
    const buffer = Buffer.from([...this.texts.values()].map((text) => `P${text}\n`).join(''), 'utf8');
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
          const text = line.slice(1);
          const record = JSON.parse(text) as InstanceRecord;
          if (typeof record.instanceId !== 'string') throw new Error('a record without an instance id');
          this.remember(record.instanceId, text, summaryOf(record));
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
    const content = [...this.texts.values()].map((text) => `P${text}\n`).join('');
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
        const text = readFileSync(file, 'utf8');
        const record = JSON.parse(text) as InstanceRecord;
        if (typeof record.instanceId !== 'string') throw new Error('a record without an instance id');
        this.remember(record.instanceId, text, summaryOf(record));
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

/** `JSON.stringify(record)` with `history` last, its events' texts serialized once (history.ts eventJson). */
export function recordText(record: InstanceRecord): string {
  const { history, ...rest } = record;
  const head = JSON.stringify(rest);
  if (!Array.isArray(history)) return head;
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"history":${historyJson(history)}}`;
}

function summaryOf(record: InstanceRecord): InstanceSummary {
  return { instanceId: record.instanceId, name: record.name, status: record.status, createdTime: record.createdTime };
}

function defaultOnCorrupt(file: string, error: unknown): void {
  console.warn(
    `durable store: set aside unreadable ${file} (${error instanceof Error ? error.message : String(error)})`,
  );
}
