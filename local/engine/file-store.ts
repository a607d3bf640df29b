/**
 * An InstanceStore on disk, so orchestration instances survive a restart of the offline host:
 * one JSON file per instance. Every write is atomic (temp file, fsync, rename, fsync of the
 * folder), so a crash at any moment leaves either the previous or the next version of a record,
 * never a torn one; and the engine only acts on work after `put` returned.
 *
 * Synchronous, like the interface (the engine's check-then-create must not interleave). Reads are
 * served from the texts this process loaded or wrote: the host is the only writer of its data
 * folder (it holds a lock on it), so the cache cannot go stale.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceRecord, InstanceStore } from './store';

export interface FileInstanceStoreOptions {
  /**
   * Flush every write to the disk before acting on it (default true): survives power loss and
   * OS crashes, not just a killed process. Off, a write still survives the process dying.
   */
  fsync?: boolean;
  /** Told about a record file that cannot be read; the file is set aside as `*.corrupt`. */
  onCorrupt?: (file: string, error: unknown) => void;
}

export class FileInstanceStore implements InstanceStore {
  private readonly texts = new Map<string, string>();
  private readonly fsync: boolean;

  constructor(
    readonly directory: string,
    private readonly options: FileInstanceStoreOptions = {},
  ) {
    this.fsync = options.fsync ?? true;
    mkdirSync(directory, { recursive: true });
    this.load();
  }

  get(instanceId: string): InstanceRecord | undefined {
    const text = this.texts.get(instanceId);
    return text === undefined ? undefined : (JSON.parse(text) as InstanceRecord);
  }

  put(record: InstanceRecord): void {
    const text = JSON.stringify(record);
    this.writeAtomically(this.fileOf(record.instanceId), text);
    this.texts.set(record.instanceId, text);
  }

  delete(instanceId: string): boolean {
    if (!this.texts.has(instanceId)) return false;
    try {
      unlinkSync(this.fileOf(instanceId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.syncDirectory();
    this.texts.delete(instanceId);
    return true;
  }

  list(): InstanceRecord[] {
    return [...this.texts.values()].map((text) => JSON.parse(text) as InstanceRecord);
  }

  /**
   * Instance ids may hold characters no file system accepts (and be 256 characters long), so a
   * file is named by the id's hash; the id itself is inside the record.
   */
  private fileOf(instanceId: string): string {
    return join(this.directory, `${createHash('sha256').update(instanceId).digest('hex')}.json`);
  }

  private load(): void {
    for (const name of readdirSync(this.directory)) {
      const file = join(this.directory, name);
      // A temp file is a write that never reached its rename: the record file before it stands.
      if (name.endsWith('.tmp')) {
        unlinkSync(file);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const text = readFileSync(file, 'utf8');
        const record = JSON.parse(text) as InstanceRecord;
        if (typeof record.instanceId !== 'string' || this.fileOf(record.instanceId) !== file) throw new Error('the record does not belong under this file name');
        this.texts.set(record.instanceId, text);
      } catch (error) {
        renameSync(file, `${file}.corrupt`);
        (this.options.onCorrupt ?? defaultOnCorrupt)(file, error);
      }
    }
  }

  private writeAtomically(file: string, text: string): void {
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, text);
      // Data on disk before the rename makes it visible: never a renamed-but-empty file.
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    this.syncDirectory();
  }

  /** Makes a rename or unlink itself durable (it is an entry in the folder). */
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

function defaultOnCorrupt(file: string, error: unknown): void {
  console.warn(`durable store: set aside unreadable ${file}.corrupt (${error instanceof Error ? error.message : String(error)})`);
}
