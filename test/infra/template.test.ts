/**
 * infra/main.bicep compiled by the Bicep CLI, then played offline: security settings, role
 * assignments, the function app and its settings, secrets, outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Evaluation, ref, SUBSCRIPTION_ID, TENANT_ID } from './arm';
import {
  allowedSecretLikeSettings,
  appIdentityId,
  appSettings,
  compileBicep,
  contextIdentities,
  DEVELOPER,
  ENV_NAME,
  evaluate,
  functionApp,
  LOCATION,
  ofType,
  resourceGroupId,
  ROLE,
  roleDefinition,
  serviceFolders,
  ROOT,
  secretFindings,
  single,
  Template,
  templateTextFindings,
} from './infra';

let template: Template;
let text: string;
let shared: Evaluation; // defaults, no developer principal
let withDeveloper: Evaluation;
let perContext: Evaluation;

beforeAll(() => {
  ({ template, text } = compileBicep());
  shared = evaluate(template);
  withDeveloper = evaluate(template, { principalId: DEVELOPER });
  perContext = evaluate(template, { principalId: DEVELOPER, cosmosAccountPerContext: true });
});

describe('resource group', () => {
  it('is created by the template (subscription scope) and holds every other resource', () => {
    expect(template.$schema).toContain('subscriptionDeploymentTemplate');
    const groups = ofType(shared, 'Microsoft.Resources/resourceGroups');
    expect(groups.map((g) => g.id)).toEqual([resourceGroupId()]);
    expect(groups[0]!.tags).toEqual({ 'azd-env-name': ENV_NAME });
    for (const resource of shared.resources.filter((r) => r !== groups[0])) {
      expect(resource.id.startsWith(`${resourceGroupId()}/`)).toBe(true);
      if (resource.location !== undefined) expect(resource.location).toBe(LOCATION);
    }
  });
});

describe('local authentication is disabled', () => {
  it.each([
    ['shared account', () => shared, 1],
    ['account per context', () => perContext, serviceFolders().length],
  ])('Cosmos DB (%s): serverless, local auth and key-based metadata writes disabled', (_, get, count) => {
    const accounts = ofType(get(), 'Microsoft.DocumentDB/databaseAccounts');
    expect(accounts).toHaveLength(count);
    for (const account of accounts) {
      expect(account.properties.disableLocalAuth).toBe(true);
      expect(account.properties.disableKeyBasedMetadataWriteAccess).toBe(true);
      expect(account.properties.capabilities).toEqual([{ name: 'EnableServerless' }]);
      expect(account.properties.minimalTlsVersion).toBe('Tls12');
    }
  });

  it('Application Insights and Log Analytics', () => {
    const insights = single(shared, 'Microsoft.Insights/components');
    const workspace = single(shared, 'Microsoft.OperationalInsights/workspaces');
    expect(insights.properties.DisableLocalAuth).toBe(true);
    expect(insights.properties.WorkspaceResourceId).toBe(workspace.id);
    expect(workspace.properties.features.disableLocalAuth).toBe(true);
  });

  it('storage: no shared key, TLS 1.2, HTTPS only, no public blob access', () => {
    const storage = single(shared, 'Microsoft.Storage/storageAccounts');
    expect(storage.properties).toMatchObject({
      allowSharedKeyAccess: false,
      minimumTlsVersion: 'TLS1_2',
      allowBlobPublicAccess: false,
      supportsHttpsTrafficOnly: true,
      defaultToOAuthAuthentication: true,
    });
    for (const container of ofType(shared, 'Microsoft.Storage/storageAccounts/blobServices/containers')) {
      expect(container.properties.publicAccess).toBe('None');
    }
  });

  it('the function app accepts no basic-auth publishing', () => {
    const policies = ofType(shared, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(policies.map((p) => p.name.split('/')[1]).sort()).toEqual(['ftp', 'scm']);
    for (const policy of policies) expect(policy.properties.allow).toBe(false);
  });
});

describe('storage queues and containers', () => {
  it('declares the dead-letter queue, the order-events queue and its poison queue in the AzureWebJobsStorage account', () => {
    const storage = single(shared, 'Microsoft.Storage/storageAccounts');
    const queues = ofType(shared, 'Microsoft.Storage/storageAccounts/queueServices/queues');
    expect(queues.map((q) => q.id).sort()).toEqual(
      ['order-dead-letters', 'order-events', 'order-events-poison'].map(
        (name) => `${storage.id}/queueServices/default/queues/${name}`,
      ),
    );
    expect(appSettings(shared).DEAD_LETTER_QUEUE).toBe('order-dead-letters');
    expect(appSettings(shared).AzureWebJobsStorage__queueServiceUri).toBe(ref(storage.id, 'primaryEndpoints', 'queue'));
  });
});

describe('Azure RBAC role assignments', () => {
  type Expected = { role: string; principal: string; principalType: string; scope: string };
  const summarize = (evaluation: Evaluation): Expected[] =>
    ofType(evaluation, 'Microsoft.Authorization/roleAssignments')
      .map((a) => ({
        role: a.properties.roleDefinitionId,
        principal: a.properties.principalId,
        principalType: a.properties.principalType,
        scope: a.scope!,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

  const expected = (evaluation: Evaluation, developer: boolean): Expected[] => {
    const storage = single(evaluation, 'Microsoft.Storage/storageAccounts').id;
    const insights = single(evaluation, 'Microsoft.Insights/components').id;
    const app = ref(appIdentityId(evaluation), 'principalId');
    const storageRoles = [
      ROLE.storageBlobDataOwner,
      ROLE.storageQueueDataContributor,
      ROLE.storageTableDataContributor,
    ];
    const list: Expected[] = [
      ...storageRoles.map((role) => ({
        role: roleDefinition(role),
        principal: app,
        principalType: 'ServicePrincipal',
        scope: storage,
      })),
      {
        role: roleDefinition(ROLE.monitoringMetricsPublisher),
        principal: app,
        principalType: 'ServicePrincipal',
        scope: insights,
      },
    ];
    if (developer) {
      list.push(
        ...storageRoles.map((role) => ({
          role: roleDefinition(role),
          principal: DEVELOPER,
          principalType: 'User',
          scope: storage,
        })),
      );
      list.push({
        role: roleDefinition(ROLE.monitoringMetricsPublisher),
        principal: DEVELOPER,
        principalType: 'User',
        scope: insights,
      });
    }
    return list.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  };

  it('the app identity: storage blob owner, queue and table contributor, metrics publisher; nothing else', () => {
    expect(summarize(shared)).toEqual(expected(shared, false));
  });

  it('the deploying developer (AZURE_PRINCIPAL_ID) gets the storage data roles and Monitoring Metrics Publisher as a User', () => {
    expect(summarize(withDeveloper)).toEqual(expected(withDeveloper, true));
  });

  it('role assignment names are stable GUIDs', () => {
    for (const assignment of ofType(withDeveloper, 'Microsoft.Authorization/roleAssignments')) {
      expect(assignment.name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });
});

describe('Cosmos DB data-plane role assignments', () => {
  const summarize = (evaluation: Evaluation) =>
    ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments')
      .map((a) => `${a.properties.principalId} ${a.properties.roleDefinitionId} ${a.properties.scope}`)
      .sort();

  it.each([
    ['shared account, no developer', () => shared, false],
    ['shared account, developer', () => withDeveloper, true],
    ['account per context, developer', () => perContext, true],
  ])('%s: Data Contributor for each context on its database, the developer on each account', (_, get, developer) => {
    const evaluation = get();
    const accounts = ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts');
    const expected: string[] = [];
    for (const [context, identity] of contextIdentities(evaluation)) {
      const account = accounts.find((a) =>
        ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases').some(
          (db) => db.id === `${a.id}/sqlDatabases/${context}`,
        ),
      )!;
      expect(account).toBeDefined();
      expected.push(
        `${ref(identity.id, 'principalId')} ${account.id}/sqlRoleDefinitions/${ROLE.cosmosDataContributor} ${account.id}/dbs/${context}`,
      );
    }
    if (developer) {
      for (const account of accounts)
        expected.push(`${DEVELOPER} ${account.id}/sqlRoleDefinitions/${ROLE.cosmosDataContributor} ${account.id}`);
    }
    expect(summarize(evaluation)).toEqual(expected.sort());
  });
});

describe('function app', () => {
  it('runs on a Flex Consumption (FC1) plan, Linux', () => {
    const plan = single(shared, 'Microsoft.Web/serverfarms');
    expect(plan.sku).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(plan.properties.reserved).toBe(true);
    const app = functionApp(shared);
    expect(app.kind).toBe('functionapp,linux');
    expect(app.properties.serverFarmId).toBe(plan.id);
    expect(app.properties.httpsOnly).toBe(true);
    expect(app.tags['azd-service-name']).toBe('api');
  });

  it('Node runtime version matches package.json engines.node', () => {
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    const major = /(\d+)/.exec(engines)![1];
    expect(functionApp(shared).properties.functionAppConfig.runtime).toEqual({ name: 'node', version: major });
  });

  it('instance memory and maximum instances come from the parameters', () => {
    expect(functionApp(shared).properties.functionAppConfig.scaleAndConcurrency).toEqual({
      instanceMemoryMB: 2048,
      maximumInstanceCount: 100,
    });
    const custom = evaluate(template, { instanceMemoryMB: 4096, maximumInstanceCount: 40 });
    expect(functionApp(custom).properties.functionAppConfig.scaleAndConcurrency).toEqual({
      instanceMemoryMB: 4096,
      maximumInstanceCount: 40,
    });
    expect(() => evaluate(template, { instanceMemoryMB: 1000 })).toThrow(/not an allowed value/);
  });

  it('deployment package: a private blob container of the storage account, read with the app identity', () => {
    const storage = single(shared, 'Microsoft.Storage/storageAccounts');
    const containers = ofType(shared, 'Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(containers).toHaveLength(1);
    const containerName = containers[0]!.name.split('/').pop();
    const deployment = functionApp(shared).properties.functionAppConfig.deployment.storage;
    expect(deployment).toEqual({
      type: 'blobContainer',
      value: `${ref(storage.id, 'primaryEndpoints', 'blob')}${containerName}`,
      authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: appIdentityId(shared) },
    });
  });

  it('has its own identity and every context identity attached, and no other', () => {
    const identity = functionApp(shared).identity;
    expect(identity.type).toBe('UserAssigned');
    const expected = [appIdentityId(shared), ...[...contextIdentities(shared).values()].map((i) => i.id)].sort();
    expect(Object.keys(identity.userAssignedIdentities).sort()).toEqual(expected);
    const all = ofType(shared, 'Microsoft.ManagedIdentity/userAssignedIdentities')
      .map((i) => i.id)
      .sort();
    expect(all).toEqual(expected);
  });
});

describe('app settings', () => {
  it('AzureWebJobsStorage (and so the durable task hub) through the app identity', () => {
    const settings = appSettings(shared);
    const storage = single(shared, 'Microsoft.Storage/storageAccounts');
    const clientId = ref(appIdentityId(shared), 'clientId');
    expect(settings).toMatchObject({
      AzureWebJobsStorage__blobServiceUri: ref(storage.id, 'primaryEndpoints', 'blob'),
      AzureWebJobsStorage__queueServiceUri: ref(storage.id, 'primaryEndpoints', 'queue'),
      AzureWebJobsStorage__tableServiceUri: ref(storage.id, 'primaryEndpoints', 'table'),
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: clientId,
    });
    expect(settings).not.toHaveProperty('AzureWebJobsStorage');
  });

  it('Application Insights through Microsoft Entra: authentication string with the app identity', () => {
    const settings = appSettings(shared);
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      `ClientId=${ref(appIdentityId(shared), 'clientId')};Authorization=AAD`,
    );
    expect(settings.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(
      allowedSecretLikeSettings(shared).APPLICATIONINSIGHTS_CONNECTION_STRING,
    );
  });

  it('saga settings: approval threshold and timeout, task hub, dead-letter queue', () => {
    const settings = appSettings(shared);
    expect(settings).toMatchObject({
      APPROVAL_THRESHOLD: '1000',
      APPROVAL_TIMEOUT: 'PT24H',
      DEAD_LETTER_QUEUE: 'order-dead-letters',
    });
    expect(settings.TASK_HUB_NAME).toBe('OrderSagasagadev1');
    expect(shared.outputs.TASK_HUB_NAME).toBe(settings.TASK_HUB_NAME);
  });

  it.each(['dev', 'my-env.2024_x', 'a'.repeat(64), '1-2-3'])(
    'task hub name from env name %p is 3-45 alphanumerics starting with a letter',
    (env) => {
      const name = appSettings(evaluate(template, { environmentName: env })).TASK_HUB_NAME!;
      expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
      expect(name.toLowerCase()).toContain(
        env
          .replace(/[^A-Za-z0-9]/g, '')
          .toLowerCase()
          .slice(0, 20),
      );
    },
  );

  it('no FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION (Flex Consumption sets the runtime itself)', () => {
    expect(Object.keys(appSettings(shared))).not.toEqual(expect.arrayContaining(['FUNCTIONS_WORKER_RUNTIME']));
    expect(Object.keys(appSettings(shared))).not.toEqual(expect.arrayContaining(['FUNCTIONS_EXTENSION_VERSION']));
  });
});

describe('no secrets', () => {
  it('the compiled template has no list*() call, key, or secure output', () => {
    expect(templateTextFindings(text)).toEqual([]);
  });

  it.each([
    ['shared', () => shared],
    ['developer', () => withDeveloper],
    ['account per context', () => perContext],
  ])('%s: no app setting or output carries a secret', (_, get) => {
    expect(secretFindings(get())).toEqual([]);
  });

  it('the scan catches a key-bearing setting (proof the check can fail)', () => {
    const mutated = JSON.parse(text);
    const api = mutated.resources.find((r: Template) => r.name === 'api');
    api.properties.parameters.appSettings.value = api.properties.parameters.appSettings.value.replace(
      "createObject('APPROVAL_THRESHOLD'",
      "createObject('STORAGE_KEY', 'AccountKey=abc', 'APPROVAL_THRESHOLD'",
    );
    expect(templateTextFindings(JSON.stringify(mutated))).toEqual(
      expect.arrayContaining([expect.stringContaining('AccountKey=')]),
    );
    expect(secretFindings(evaluate(mutated))).toEqual(
      expect.arrayContaining([
        'app setting STORAGE_KEY has a secret-looking value',
        'app setting STORAGE_KEY has a secret-looking name',
      ]),
    );
  });

  it('no parameter looks like a secret', () => {
    for (const [name, declaration] of Object.entries<Template>(template.parameters)) {
      expect(name).not.toMatch(/password|secret|key/i);
      expect(String(declaration.type).toLowerCase()).not.toMatch(/^secure/);
    }
  });
});

describe('outputs for azd', () => {
  it('location, tenant, resource group, function app, Cosmos endpoint, storage endpoints', () => {
    const app = functionApp(shared);
    const account = single(shared, 'Microsoft.DocumentDB/databaseAccounts');
    const storage = single(shared, 'Microsoft.Storage/storageAccounts');
    expect(shared.outputs).toMatchObject({
      AZURE_LOCATION: LOCATION,
      AZURE_TENANT_ID: TENANT_ID,
      AZURE_RESOURCE_GROUP: `rg-${ENV_NAME}`,
      AZURE_FUNCTION_APP_NAME: app.name,
      SERVICE_API_NAME: app.name,
      COSMOS_ENDPOINT: ref(account.id, 'documentEndpoint'),
      AZURE_STORAGE_ACCOUNT_NAME: storage.name,
      AZURE_STORAGE_BLOB_ENDPOINT: ref(storage.id, 'primaryEndpoints', 'blob'),
      AZURE_STORAGE_QUEUE_ENDPOINT: ref(storage.id, 'primaryEndpoints', 'queue'),
      AZURE_STORAGE_TABLE_ENDPOINT: ref(storage.id, 'primaryEndpoints', 'table'),
      DEAD_LETTER_QUEUE: 'order-dead-letters',
    });
    expect(perContext.outputs.COSMOS_ENDPOINT).toBe('');
    expect(resourceGroupId()).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${shared.outputs.AZURE_RESOURCE_GROUP}`,
    );
  });
});

describe('azd wiring', () => {
  it('main.parameters.json feeds the azd variables into declared parameters', () => {
    const parameters = JSON.parse(readFileSync(join(ROOT, 'infra', 'main.parameters.json'), 'utf8')).parameters;
    expect(parameters.environmentName.value).toBe('${AZURE_ENV_NAME}');
    expect(parameters.location.value).toBe('${AZURE_LOCATION}');
    expect(parameters.principalId.value).toBe('${AZURE_PRINCIPAL_ID}');
    for (const name of Object.keys(parameters)) expect(Object.keys(template.parameters)).toContain(name);
  });

  it('azure.yaml: service api, a TypeScript function app packaged from dist/', () => {
    const yaml = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    const api = /^ {2}api:\n((?: {4}.*\n|\s*#.*\n|\s*\n)*)/m.exec(yaml);
    expect(api).not.toBeNull();
    const body = api![1]!;
    expect(body).toMatch(/^ {4}host: function$/m);
    expect(body).toMatch(/^ {4}language: ts$/m);
    expect(body).toMatch(/^ {4}project: \.$/m);
    expect(body).toMatch(/^ {4}dist: dist$/m);
  });
});
