/**
 * Azure Storage transactions as Azurite saw them. With AZURITE_ACCESS_LOG=1 the offline host
 * starts its embedded Azurite without `--silent`, and Azurite writes one access-log line per
 * request of its blob, queue and table services (morgan's "common" format) to logs/azurite.log.
 * In Azure each of those requests is one billed storage transaction (a batch is one too), so
 * counting the lines a run adds counts what the run would be billed for.
 *
 * The history a task hub keeps per instance is read from its History table directly (the
 * durable status API condenses it: it leaves out TaskScheduled and the episode markers).
 */
import { createHmac } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

export type StorageService = 'queue' | 'table' | 'blob' | 'account';

export interface StorageCount {
  total: number;
  byService: Record<StorageService, number>;
  /** e.g. `queue: get messages`, `table: batch`, `blob: lease`. */
  byOperation: Record<string, number>;
}

const LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/;

/**
 * What one request is, from its method and path (`/account/...`). Queue names are lower case
 * and their messages live under `/messages`; table requests name a table with `()` or `(keys)`,
 * or are `Tables` / `$batch`; everything else under a container is a blob request.
 */
export function classifyStorageRequest(method: string, url: string): { service: StorageService; operation: string } {
  const [pathname, query = ''] = url.split('?');
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [, first = '', second, third] = segments;
  const params = new URLSearchParams(query);
  if (!first) return { service: 'account', operation: `${method} account` };
  if (first === '$batch') return { service: 'table', operation: 'table: batch' };
  if (first === 'Tables' || first.startsWith('Tables('))
    return { service: 'table', operation: 'table: create/list tables' };
  if (first.includes('(')) {
    const operation =
      method === 'GET'
        ? first.endsWith('()')
          ? 'query'
          : 'point read'
        : method === 'POST'
          ? 'insert'
          : method === 'DELETE'
            ? 'delete'
            : 'update/merge';
    return { service: 'table', operation: `table: ${operation}` };
  }
  if (second === 'messages') {
    const operation =
      method === 'GET'
        ? params.get('peekonly') === 'true'
          ? 'peek messages'
          : 'get messages'
        : method === 'POST'
          ? 'put message'
          : method === 'DELETE'
            ? third
              ? 'delete message'
              : 'clear messages'
            : 'update message';
    return { service: 'queue', operation: `queue: ${operation}` };
  }
  if (second === undefined && !params.has('restype') && params.get('comp') !== 'lease') {
    // `/account/queue` (create, metadata) — a container would carry restype=container.
    return { service: 'queue', operation: `queue: ${method === 'PUT' ? 'create queue' : 'queue metadata'}` };
  }
  const operation =
    params.get('comp') === 'lease'
      ? 'lease'
      : method === 'GET' || method === 'HEAD'
        ? 'read'
        : method === 'DELETE'
          ? 'delete'
          : 'write';
  return { service: 'blob', operation: `blob: ${operation}` };
}

/** Counts the access-log lines in `text` (other lines, e.g. Azurite's start-up banner, are skipped). */
export function countStorageRequests(text: string): StorageCount {
  const count: StorageCount = { total: 0, byService: { queue: 0, table: 0, blob: 0, account: 0 }, byOperation: {} };
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const { service, operation } = classifyStorageRequest(match[1], match[2]);
    count.total += 1;
    count.byService[service] += 1;
    count.byOperation[operation] = (count.byOperation[operation] ?? 0) + 1;
  }
  return count;
}

export const azuriteLogFile = (dataDir: string) => path.join(dataDir, 'logs', 'azurite.log');

/** The log's size now: where a later `countSince` starts. 0 where there is no log yet. */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The requests logged since `offset` (from `logOffset`). */
export function countSince(file: string, offset: number): StorageCount {
  const size = logOffset(file);
  const buffer = Buffer.alloc(Math.max(0, size - offset));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, offset);
  } finally {
    closeSync(fd);
  }
  return countStorageRequests(buffer.toString('utf8'));
}

export function perOrder(count: StorageCount, orders: number): StorageCount {
  const scale = (value: number) => Number((value / Math.max(1, orders)).toFixed(2));
  return {
    total: scale(count.total),
    byService: Object.fromEntries(
      Object.entries(count.byService).map(([name, value]) => [name, scale(value)]),
    ) as Record<StorageService, number>,
    byOperation: Object.fromEntries(
      Object.entries(count.byOperation)
        .sort((a, b) => b[1] - a[1])
        .map(([name, value]) => [name, scale(value)]),
    ),
  };
}

/** Event types of one instance's rows in `<hub>History`, in the embedded Azurite of `dataDir`. */
export async function storedHistory(dataDir: string, hub: string, instanceId: string): Promise<string[]> {
  const state = JSON.parse(readFileSync(path.join(dataDir, 'dependencies.json'), 'utf8')) as {
    azurite?: { connectionString: string };
  };
  if (!state.azurite) throw new Error('no embedded Azurite recorded in dependencies.json');
  const settings = Object.fromEntries(
    state.azurite.connectionString
      .split(';')
      .filter(Boolean)
      .map((part) => [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)]),
  );
  const endpoint = new URL(settings.TableEndpoint);
  const resource = `${endpoint.pathname.replace(/\/$/, '')}/${hub}History()`;
  const types: string[] = [];
  let continuation = '';
  do {
    const date = new Date().toUTCString();
    // Shared Key Lite for the Table service: the date and the canonical resource, signed.
    const signature = createHmac('sha256', Buffer.from(settings.AccountKey, 'base64'))
      .update(`${date}\n/${settings.AccountName}${resource}`)
      .digest('base64');
    const filter = encodeURIComponent(`PartitionKey eq '${instanceId.replace(/'/g, "''")}'`);
    const response = await fetch(`${endpoint.origin}${resource}?$filter=${filter}&$select=EventType${continuation}`, {
      headers: {
        'x-ms-date': date,
        'x-ms-version': '2019-02-02',
        accept: 'application/json;odata=nometadata',
        authorization: `SharedKeyLite ${settings.AccountName}:${signature}`,
      },
    });
    if (response.status !== 200)
      throw new Error(`the History table answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const body = (await response.json()) as { value: { EventType?: string }[] };
    for (const row of body.value) if (row.EventType) types.push(row.EventType);
    const nextPartition = response.headers.get('x-ms-continuation-nextpartitionkey');
    const nextRow = response.headers.get('x-ms-continuation-nextrowkey');
    continuation = nextPartition
      ? `&NextPartitionKey=${encodeURIComponent(nextPartition)}&NextRowKey=${encodeURIComponent(nextRow ?? '')}`
      : '';
  } while (continuation);
  return types;
}
