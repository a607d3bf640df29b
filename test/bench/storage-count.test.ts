import { mkdtempSync, mkdirSync, appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  azuriteLogFile,
  classifyStorageRequest,
  countSince,
  countStorageRequests,
  logOffset,
  perOrder,
} from '../../bench/storage-count';

// Lines as Azurite's access log writes them (morgan "common"), from a run of the extension backend.
const LOG = [
  'Azurite Queue service is successfully listening at http://127.0.0.1:42137',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "GET /devstoreaccount1/benchhub-workitems/messages?numofmessages=1&visibilitytimeout=300 HTTP/1.1" 200 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "POST /devstoreaccount1/benchhub-control-00/messages?messagettl=-1 HTTP/1.1" 201 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "DELETE /devstoreaccount1/benchhub-workitems/messages/a2c57e26?popreceipt=MDJE HTTP/1.1" 204 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "PUT /devstoreaccount1/benchhub-workitems/messages/a2c57e26?popreceipt=MDJE&visibilitytimeout=0 HTTP/1.1" 204 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "POST /devstoreaccount1/$batch HTTP/1.1" 202 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "GET /devstoreaccount1/BenchHubHistory()?$filter=PartitionKey%20eq%20%27o-1%27 HTTP/1.1" 200 -',
  "127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] \"PATCH /devstoreaccount1/BenchHubInstances(PartitionKey='o-1',RowKey='')?$format=application%2Fjson HTTP/1.1\" 204 -",
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "POST /devstoreaccount1/Tables?$format=application%2Fjson HTTP/1.1" 201 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "PUT /devstoreaccount1/benchhub-leases/default/benchhub-control-00?comp=lease HTTP/1.1" 200 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "PUT /devstoreaccount1/benchhub-applease?restype=container HTTP/1.1" 201 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "GET /devstoreaccount1/benchhub-applease/benchhub-appleaseinfo HTTP/1.1" 200 -',
  '127.0.0.1 - - [02/Dec/2026:04:11:07 +0000] "PUT /devstoreaccount1/order-dead-letters?timeout=30 HTTP/1.1" 201 -',
];

describe('storage transactions from Azurite access log', () => {
  it('classifies queue, table and blob requests by their path', () => {
    expect(classifyStorageRequest('GET', '/devstoreaccount1/benchhub-control-00/messages?numofmessages=32')).toEqual({
      service: 'queue',
      operation: 'queue: get messages',
    });
    expect(classifyStorageRequest('GET', '/devstoreaccount1/q/messages?peekonly=true').operation).toBe(
      'queue: peek messages',
    );
    expect(classifyStorageRequest('PUT', "/devstoreaccount1/BenchHubInstances(PartitionKey='o-1',RowKey='')")).toEqual({
      service: 'table',
      operation: 'table: update/merge',
    });
    expect(
      classifyStorageRequest('GET', "/devstoreaccount1/BenchHubInstances(PartitionKey='o-1',RowKey='')").operation,
    ).toBe('table: point read');
    expect(classifyStorageRequest('GET', '/devstoreaccount1/BenchHubInstances()?$top=1').operation).toBe(
      'table: query',
    );
    expect(
      classifyStorageRequest('PUT', '/devstoreaccount1/benchhub-applease/benchhub-appleaseinfo?comp=lease'),
    ).toEqual({ service: 'blob', operation: 'blob: lease' });
    expect(classifyStorageRequest('PUT', '/devstoreaccount1/benchhub-applease?restype=container')).toEqual({
      service: 'blob',
      operation: 'blob: write',
    });
    expect(classifyStorageRequest('PUT', '/devstoreaccount1/order-dead-letters')).toEqual({
      service: 'queue',
      operation: 'queue: create queue',
    });
    expect(classifyStorageRequest('GET', '/devstoreaccount1?comp=list').service).toBe('account');
  });

  it('counts only request lines, by service and operation', () => {
    const count = countStorageRequests(LOG.join('\n'));
    expect(count.total).toBe(LOG.length - 1);
    expect(count.byService).toEqual({ queue: 5, table: 4, blob: 3, account: 0 });
    expect(count.byOperation).toMatchObject({
      'queue: get messages': 1,
      'queue: put message': 1,
      'queue: delete message': 1,
      'queue: update message': 1,
      'table: batch': 1,
      'table: query': 1,
      'blob: lease': 1,
    });
    expect(perOrder(count, 4).total).toBe(3);
  });

  it('counts what a run appended to the log since an offset', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'storage-count-'));
    try {
      mkdirSync(path.join(dataDir, 'logs'));
      const file = azuriteLogFile(dataDir);
      expect(logOffset(file)).toBe(0);
      writeFileSync(file, `${LOG.slice(0, 4).join('\n')}\n`);
      const offset = logOffset(file);
      appendFileSync(file, `${LOG.slice(4, 7).join('\n')}\n`);
      expect(countSince(file, offset).total).toBe(3);
      expect(countSince(file, 0).total).toBe(6);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
