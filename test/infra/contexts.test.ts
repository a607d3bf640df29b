/**
 * Bounded contexts: infra/ mirrors src/services/ one to one and docs/architecture.md exactly, and
 * each context's identity can reach its own database and no other. The guide's "How to add a
 * context" names every place a new context must appear; each is checked here, by name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { declaredDatabases } from '../../src/libs/cosmos';
import { SOLD_ORDER_TTL_SECONDS } from '../../src/services/inventory/repository';
import { ORDER_LIST_INDEX, ordersData } from '../../src/services/orders/repository';
import { Evaluation, ref } from './arm';
import {
  appSettings,
  architectureContainers,
  compileBicep,
  contextIdentities,
  DEVELOPER,
  evaluate,
  isolationViolations,
  ofType,
  ROOT,
  serviceFolders,
  single,
  Template,
} from './infra';

let template: Template;
let text: string;
let shared: Evaluation;
let perContext: Evaluation;

beforeAll(() => {
  ({ template, text } = compileBicep());
  shared = evaluate(template, { principalId: DEVELOPER });
  perContext = evaluate(template, { principalId: DEVELOPER, cosmosAccountPerContext: true });
});

const databasesOf = (evaluation: Evaluation) =>
  ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases')
    .map((db) => db.name.split('/')[1]!)
    .sort();

describe('the contexts of infra/ are the folders of src/services/', () => {
  it.each([
    ['shared account', () => shared],
    ['account per context', () => perContext],
  ])('%s: one database, one identity, one client-id setting per folder', (_, get) => {
    const folders = serviceFolders();
    expect(folders.length).toBeGreaterThan(0);
    const evaluation = get();
    expect(databasesOf(evaluation)).toEqual(folders);
    expect([...contextIdentities(evaluation).keys()].sort()).toEqual(folders);
    const clientIdSettings = Object.keys(appSettings(evaluation))
      .filter((name) => name.endsWith('_IDENTITY_CLIENT_ID'))
      .sort();
    expect(clientIdSettings).toEqual(folders.map((folder) => `${folder.toUpperCase()}_IDENTITY_CLIENT_ID`).sort());
  });

  it('the folders are the contexts of docs/architecture.md', () => {
    expect(serviceFolders()).toEqual([...new Set(architectureContainers().map((row) => row.context))].sort());
  });
});

/** Each place of docs/architecture.md "How to add a context", and how it names a context. */
const PLACES: Record<string, (context: string) => RegExp> = {
  'src/index.ts': (context) => new RegExp(`import '\\./services/${context}';`),
  'src/libs/cosmos.ts': (context) => new RegExp(`ContextName =[^;]*'${context}'`),
  'local/dependencies/provision.ts': (context) => new RegExp(`'\\.\\./\\.\\./src/services/${context}/repository'`),
  'infra/main.bicep': (context) => new RegExp(`name: '${context}'\\s*\\n\\s*containers:`),
  'docs/architecture.md': (context) => new RegExp(`^\\| ${context} +\\| \`${context}\``, 'm'),
  'docs/diagrams/contexts.dot': (context) => new RegExp(`subgraph cluster_${context} `),
};

describe('how to add a context: every place the guide names names every context', () => {
  const guide = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const section = guide.slice(guide.indexOf('## 7. How to add a context'), guide.indexOf('## 8.'));
  const named = [...section.matchAll(/^\| `([^`]+)` \|/gm)]
    .map((match) => match[1])
    .filter((place) => !place.includes('<context>'));

  it('the guide lists exactly the places this test checks', () => {
    expect(named.sort()).toEqual(Object.keys(PLACES).sort());
  });

  it.each(Object.keys(PLACES))('%s names every folder of src/services/', (place) => {
    const text = readFileSync(join(ROOT, place), 'utf8');
    const missing = serviceFolders().filter((context) => !PLACES[place](context).test(text));
    expect(missing).toEqual([]);
  });
});

describe('databases and containers follow docs/architecture.md', () => {
  it.each([
    ['shared account', () => shared],
    ['account per context', () => perContext],
  ])('%s: same containers, same partition keys, database named after its context', (_, get) => {
    const documented = architectureContainers();
    expect(documented.length).toBeGreaterThanOrEqual(8);
    for (const row of documented) expect(row.database).toBe(row.context);
    const expected = documented.map((row) => `${row.database}/${row.container} ${row.partitionKey}`).sort();
    const actual = ofType(get(), 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers')
      .map((c) => {
        const [, database, container] = c.name.split('/');
        expect(c.properties.resource.id).toBe(container);
        expect(c.properties.resource.partitionKey.kind).toBe('Hash');
        return `${database}/${container} ${c.properties.resource.partitionKey.paths.join(',')}`;
      })
      .sort();
    expect(actual).toEqual(expected);
  });
});

describe("the code's containers are the Bicep's", () => {
  it.each([
    ['shared account', () => shared],
    ['account per context', () => perContext],
  ])('%s: each repository declares the containers and partition keys infra/ creates, no more, no fewer', (_, get) => {
    // What each repository declares is what local runs create (ensureCreated) and what its queries
    // assume; in Azure, only the Bicep's containers exist.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every folder, not a list to keep
    for (const folder of serviceFolders()) require(join(ROOT, 'src', 'services', folder, 'repository'));
    const declared = declaredDatabases()
      .flatMap(({ context, layout }) => Object.entries(layout).map(([id, path]) => `${context}/${id} ${path}`))
      .sort();
    const provisioned = ofType(get(), 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers')
      .map((c) => `${c.name.split('/').slice(1).join('/')} ${c.properties.resource.partitionKey.paths.join(',')}`)
      .sort();
    expect(new Set(declaredDatabases().map(({ context }) => context)).size).toBe(serviceFolders().length);
    expect(declared).toEqual(provisioned);
  });
});

describe('container expiry', () => {
  const containers = () => ofType(shared, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');

  it('inventory/soldOrders expires its markers after the retention the code states', () => {
    const soldOrders = containers().filter((c) => c.name.endsWith('/inventory/soldOrders'));
    expect(soldOrders).toHaveLength(1);
    expect(soldOrders[0]!.properties.resource.defaultTtl).toBe(SOLD_ORDER_TTL_SECONDS);
  });

  it('no other container expires documents', () => {
    const expiring = containers()
      .filter((c) => c.properties.resource.defaultTtl !== undefined)
      .map((c) => c.name.split('/').slice(1).join('/'));
    expect(expiring).toEqual(['inventory/soldOrders']);
  });
});

describe('composite indexes', () => {
  const containers = () => ofType(shared, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers');

  it('orders/orders has the one the order list pages by, as the code declares it', () => {
    const orders = containers().filter((c) => c.name.endsWith('/orders/orders'));
    expect(orders).toHaveLength(1);
    expect(ORDER_LIST_INDEX).toEqual([
      { path: '/updatedAt', order: 'descending' },
      { path: '/orderId', order: 'descending' },
    ]);
    expect(orders[0]!.properties.resource.indexingPolicy).toMatchObject({
      indexingMode: 'consistent',
      includedPaths: [{ path: '/*' }],
      compositeIndexes: ordersData.compositeIndexes.orders,
    });
  });

  it('no other container declares an indexing policy', () => {
    const indexed = containers()
      .filter((c) => c.properties.resource.indexingPolicy !== undefined)
      .map((c) => c.name.split('/').slice(1).join('/'));
    expect(indexed).toEqual(['orders/orders']);
  });
});

describe('isolation: one identity per context, its data role scoped to its own database', () => {
  it.each([
    ['shared account', () => shared],
    ['account per context', () => perContext],
  ])('%s: no violation', (_, get) => {
    expect(isolationViolations(get())).toEqual([]);
  });

  it('each <CONTEXT>_IDENTITY_CLIENT_ID is the client id of the identity that holds that context role', () => {
    const settings = appSettings(shared);
    const assignments = ofType(shared, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
    for (const [context, identity] of contextIdentities(shared)) {
      expect(settings[`${context.toUpperCase()}_IDENTITY_CLIENT_ID`]).toBe(ref(identity.id, 'clientId'));
      const scopes = assignments
        .filter((a) => a.properties.principalId === ref(identity.id, 'principalId'))
        .map((a) => a.properties.scope);
      expect(scopes).toHaveLength(1);
      expect(scopes[0]).toMatch(new RegExp(`/dbs/${context}$`));
    }
  });

  it('context identities hold no Azure RBAC role (storage, monitoring)', () => {
    const principals = new Set(
      [...contextIdentities(shared).values()].map((identity) => ref(identity.id, 'principalId')),
    );
    for (const assignment of ofType(shared, 'Microsoft.Authorization/roleAssignments')) {
      expect(principals.has(assignment.properties.principalId)).toBe(false);
    }
  });

  it('a role scoped to the whole account is reported (proof the check can fail)', () => {
    const mutated = JSON.parse(text);
    const contextTemplate = mutated.resources.find((r: Template) => String(r.name).includes("'context-{0}'")).properties
      .template;
    contextTemplate.resources.databaseDataContributor.properties.scope =
      "[resourceId('Microsoft.DocumentDB/databaseAccounts', parameters('cosmosAccountName'))]";
    const violations = isolationViolations(evaluate(mutated));
    expect(violations).toHaveLength(serviceFolders().length);
    expect(violations[0]).toMatch(/its identity has a role at \/subscriptions\/.*\/databaseAccounts\/[^/]+$/);
  });
});

describe('Cosmos DB endpoints', () => {
  it('shared account: COSMOS_ENDPOINT only', () => {
    const settings = appSettings(shared);
    const account = single(shared, 'Microsoft.DocumentDB/databaseAccounts');
    expect(settings.COSMOS_ENDPOINT).toBe(ref(account.id, 'documentEndpoint'));
    expect(Object.keys(settings).filter((name) => name.startsWith('COSMOS_ENDPOINT_'))).toEqual([]);
  });

  it('cosmosAccountPerContext: COSMOS_ENDPOINT_<CONTEXT> names each context own account', () => {
    const settings = appSettings(perContext);
    expect(settings).not.toHaveProperty('COSMOS_ENDPOINT');
    const accounts = ofType(perContext, 'Microsoft.DocumentDB/databaseAccounts');
    expect(accounts).toHaveLength(serviceFolders().length);
    for (const context of serviceFolders()) {
      const database = ofType(perContext, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases').find(
        (db) => db.name.split('/')[1] === context,
      )!;
      const account = accounts.find((a) => database.id.startsWith(`${a.id}/`))!;
      expect(account.name).toContain(context);
      expect(account.tags['bounded-context']).toBe(context);
      expect(settings[`COSMOS_ENDPOINT_${context.toUpperCase()}`]).toBe(ref(account.id, 'documentEndpoint'));
    }
    expect(perContext.outputs.COSMOS_CONTEXT_ENDPOINTS).toHaveLength(serviceFolders().length);
  });
});
