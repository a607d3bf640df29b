/**
 * One Cosmos DB client per bounded context, created on first use.
 *
 * In Azure every context authenticates as its own user-assigned identity, and that identity holds
 * a data-plane role on its own database only: a context that tried to read another's data would
 * be refused by Cosmos itself, not just by convention. Keys are used only against a local
 * endpoint (the emulator or the local Cosmos server).
 */
import type { Container, CosmosClient, CosmosClientOptions } from '@azure/cosmos';
import { config } from './config';
import { TransientError } from './errors';

export type ContextName = 'orders' | 'payments' | 'inventory' | 'notifications' | 'analytics' | 'shipping' | 'loyalty';

/** Container id → partition key path, as declared in infra/ and docs/architecture.md (test/infra/contexts.test.ts holds them to it). */
export type ContainerLayout = Record<string, `/${string}`>;

/**
 * The paths of one composite index, in order: what an ORDER BY over more than one field needs
 * (Cosmos DB, and the local Cosmos server, refuse such a query without one that matches it).
 */
export type CompositeIndex = { path: `/${string}`; order: 'ascending' | 'descending' }[];

export interface ContextDatabase<Layout extends ContainerLayout> {
  readonly context: ContextName;
  readonly layout: Layout;
  /** The composite indexes of those containers that have any, as declared in infra/ too. */
  readonly compositeIndexes: Partial<Record<keyof Layout & string, CompositeIndex[]>>;
  container(name: keyof Layout & string): Container;
  /** Creates the database and its containers. Local development and tests only: infra/ does it in Azure. */
  ensureCreated(): Promise<void>;
}

const clients = new Map<string, CosmosClient>();
const declared: ContextDatabase<ContainerLayout>[] = [];

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** Any key works against the local Cosmos server; the emulator needs its own, given as COSMOS_KEY. */
const LOCAL_PLACEHOLDER_KEY = Buffer.from('local-development-only').toString('base64');

export function isLocalEndpoint(endpoint: string): boolean {
  return LOCAL_HOSTS.has(new URL(endpoint).hostname);
}

function clientFor(context: ContextName): CosmosClient {
  const endpoint = config.cosmosEndpoint(context);
  if (!endpoint)
    throw new Error(`No Cosmos DB endpoint: set COSMOS_ENDPOINT (or COSMOS_ENDPOINT_${context.toUpperCase()})`);
  const cacheKey = `${context}|${endpoint}`;
  let client = clients.get(cacheKey);
  if (!client) {
    // Loaded on first use so that functions which never touch Cosmos do not pay for it at cold start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { CosmosClient: Client } = require('@azure/cosmos') as typeof import('@azure/cosmos');
    client = new Client(clientOptions(context, endpoint));
    clients.set(cacheKey, client);
  }
  return client;
}

function clientOptions(context: ContextName, endpoint: string): CosmosClientOptions {
  if (isLocalEndpoint(endpoint)) {
    return {
      endpoint,
      key: config.cosmosKey() ?? LOCAL_PLACEHOLDER_KEY,
      connectionPolicy: { enableEndpointDiscovery: false },
    };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  const clientId = config.identityClientId(context);
  const aadCredentials = clientId
    ? new identity.ManagedIdentityCredential({ clientId })
    : new identity.DefaultAzureCredential(); // a developer running locally against the cloud account
  return { endpoint, aadCredentials };
}

export function contextDatabase<Layout extends ContainerLayout>(
  context: ContextName,
  layout: Layout,
  compositeIndexes: Partial<Record<keyof Layout & string, CompositeIndex[]>> = {},
): ContextDatabase<Layout> {
  const database = () => clientFor(context).database(context);
  const handle: ContextDatabase<Layout> = {
    context,
    layout,
    compositeIndexes,
    container: (name) => database().container(name),
    async ensureCreated() {
      // In Azure, infra/ creates databases and containers: the data-plane roles the contexts
      // hold cannot, by design.
      const endpoint = config.cosmosEndpoint(context);
      if (!endpoint || !isLocalEndpoint(endpoint))
        throw new Error(`ensureCreated is for local endpoints only (${context}: ${endpoint})`);
      const { database: db } = await clientFor(context).databases.createIfNotExists({ id: context });
      for (const [id, path] of Object.entries(layout)) {
        const indexes: CompositeIndex[] | undefined = compositeIndexes[id as keyof Layout & string];
        const { resource, container } = await db.containers.createIfNotExists({
          id,
          partitionKey: { paths: [path] },
          ...(indexes ? { indexingPolicy: { compositeIndexes: indexes } } : {}),
        });
        // A container made before the index was declared (an emulator's kept data) gets it now.
        if (indexes && resource && !sameIndexes(resource.indexingPolicy?.compositeIndexes, indexes))
          await container.replace({
            ...resource,
            indexingPolicy: { ...resource.indexingPolicy, compositeIndexes: indexes },
          });
      }
    },
  };
  declared.push(handle);
  return handle;
}

function sameIndexes(stored: readonly { path: string; order?: string }[][] | undefined, wanted: CompositeIndex[]) {
  const text = (indexes: readonly { path: string; order?: string }[][]) =>
    JSON.stringify(indexes.map((paths) => paths.map(({ path, order }) => [path, order ?? 'ascending'])));
  return stored !== undefined && text(stored) === text(wanted);
}

/** Every context database declared so far (one per imported repository module). */
export function declaredDatabases(): readonly ContextDatabase<ContainerLayout>[] {
  return declared;
}

/** Forget cached clients, e.g. after a test points COSMOS_ENDPOINT elsewhere. */
export function resetCosmosClients(): void {
  for (const client of clients.values()) client.dispose();
  clients.clear();
}

/**
 * Creates `document` unless one with its id is stored already, and answers what is stored then:
 * the first write wins, so a repeat (an activity delivered twice, two runs racing) gets the first
 * one's document instead of writing over it. The create comes first, no read before it: the first
 * run, by far the most common, costs one request, and a repeat learns from the 409 that it must read.
 */
export async function createOnce<T extends { id: string }>(
  container: Container,
  document: T,
  partitionKey: string,
): Promise<{ stored: T; created: boolean }> {
  try {
    await container.items.create(document);
    return { stored: document, created: true };
  } catch (error) {
    if (cosmosStatus(error) !== 409) throw error;
    const { resource } = await container.item(document.id, partitionKey).read<T>();
    if (!resource)
      throw new Error(`${container.id} ${document.id} conflicted on create but cannot be read`, { cause: error });
    return { stored: resource, created: false };
  }
}

/** Cosmos reports "not found", "conflict" and "precondition failed" as errors with a numeric code. */
export function cosmosStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Read-decide-write on one document with optimistic concurrency. `decide` sees what is stored
 * (undefined when nothing is) and returns the document to write, or undefined to leave it as it
 * is. The write is a create when nothing was stored and an ETag-guarded replace otherwise; a write
 * that lost a race (409 on create, 412 on replace) reads again and decides again on the fresh
 * state, which is what keeps concurrent writers from undoing each other. Returns the document as
 * it stands afterwards. Contention past `maxAttempts` is transient: the step's retry policy waits.
 */
export async function optimisticUpdate<T extends { id: string }>(
  container: Container,
  id: string,
  partitionKey: string,
  decide: (stored: T | undefined) => T | undefined,
  maxAttempts = 20,
): Promise<T | undefined> {
  const item = container.item(id, partitionKey);
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    const { resource: stored, etag } = await item.read<T>();
    const next = decide(stored);
    if (!next) return stored;
    try {
      if (stored) await item.replace(next, { accessCondition: { type: 'IfMatch', condition: etag! } });
      else await container.items.create(next);
      return next;
    } catch (error) {
      if (cosmosStatus(error) !== 409 && cosmosStatus(error) !== 412) throw error;
    }
  }
  throw new TransientError(`${container.id}/${id}: still contended after ${maxAttempts} attempts`);
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/**
 * True when the database could not be reached or asked to come back later (throttled, busy, timed
 * out): a client's retry may succeed. Anything else a Cosmos call throws is a bug or a bad request.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const status = cosmosStatus(error);
  if (status !== undefined) return [408, 429, 449, 500, 502, 503, 504].includes(status);
  for (
    let cause: unknown = error, depth = 0;
    cause && depth < 5;
    cause = (cause as { cause?: unknown }).cause, depth += 1
  ) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE.has(code)) return true;
    const name = (cause as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return true;
    const errors = (cause as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((inner) => UNREACHABLE.has(String((inner as { code?: unknown })?.code))))
      return true;
  }
  return false;
}
