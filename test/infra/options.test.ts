/**
 * The infra options, in every combination: private networking (vnetEnabled), one Cosmos DB
 * account per context or a shared one, the developer roles, and App Service Authentication.
 * Each combination is compiled once and played offline; every invariant is checked in each.
 */
import { config } from '../../src/libs/config';
import { DeployedResource, Evaluation, ref, TENANT_ID } from './arm';
import {
  appIdentityId,
  appSettings,
  compileBicep,
  contextIdentities,
  DEVELOPER,
  evaluate,
  functionApp,
  isolationViolations,
  ofType,
  resourceGroupId,
  ROLE,
  roleDefinition,
  secretFindings,
  serviceFolders,
  single,
  Template,
} from './infra';

const AUTH_CLIENT_ID = '99999999-8888-7777-6666-555555555555';

interface Options {
  vnetEnabled: boolean;
  cosmosAccountPerContext: boolean;
  developerRoles: boolean;
  auth: boolean;
}

const combinations: Options[] = [];
for (const vnetEnabled of [false, true])
  for (const cosmosAccountPerContext of [false, true])
    for (const developerRoles of [false, true])
      for (const auth of [false, true])
        combinations.push({ vnetEnabled, cosmosAccountPerContext, developerRoles, auth });

const label = (o: Options) =>
  [
    o.vnetEnabled ? 'vnet' : 'public',
    o.cosmosAccountPerContext ? 'account per context' : 'shared account',
    o.developerRoles ? 'developer roles' : 'no developer roles',
    o.auth ? 'auth' : 'no auth',
  ].join(', ');

let template: Template;
const evaluations = new Map<string, Evaluation>();

beforeAll(() => {
  ({ template } = compileBicep());
  for (const o of combinations) {
    evaluations.set(
      label(o),
      evaluate(template, {
        principalId: DEVELOPER,
        vnetEnabled: o.vnetEnabled,
        cosmosAccountPerContext: o.cosmosAccountPerContext,
        developerRoles: o.developerRoles,
        authClientId: o.auth ? AUTH_CLIENT_ID : '',
      }),
    );
  }
});

const cases = combinations.map((o) => [label(o), o] as const);
const get = (o: Options) => evaluations.get(label(o))!;

describe.each(cases)('%s', (_, o) => {
  it('the isolation rule holds and nothing carries a secret', () => {
    expect(isolationViolations(get(o))).toEqual([]);
    expect(secretFindings(get(o))).toEqual([]);
    expect(contextIdentities(get(o)).size).toBe(serviceFolders().length);
  });

  it('public network access of storage and of every Cosmos DB account follows vnetEnabled', () => {
    const e = get(o);
    const storage = single(e, 'Microsoft.Storage/storageAccounts');
    expect(storage.properties.publicNetworkAccess).toBe(o.vnetEnabled ? 'Disabled' : 'Enabled');
    expect(storage.properties.networkAcls.defaultAction).toBe(o.vnetEnabled ? 'Deny' : 'Allow');
    const accounts = ofType(e, 'Microsoft.DocumentDB/databaseAccounts');
    expect(accounts).toHaveLength(o.cosmosAccountPerContext ? serviceFolders().length : 1);
    for (const account of accounts)
      expect(account.properties.publicNetworkAccess).toBe(o.vnetEnabled ? 'Disabled' : 'Enabled');
  });

  it('private endpoints: blob, queue, table and one per Cosmos DB account, each in its DNS zone, only with vnetEnabled', () => {
    const e = get(o);
    const endpoints = ofType(e, 'Microsoft.Network/privateEndpoints');
    if (!o.vnetEnabled) {
      expect(endpoints).toEqual([]);
      expect(ofType(e, 'Microsoft.Network/virtualNetworks')).toEqual([]);
      expect(ofType(e, 'Microsoft.Network/privateDnsZones')).toEqual([]);
      return;
    }
    const vnet = single(e, 'Microsoft.Network/virtualNetworks');
    const peSubnet = `${vnet.id}/subnets/private-endpoints`;
    const zones = new Map(ofType(e, 'Microsoft.Network/privateDnsZones').map((z) => [z.id, z.name]));
    const links = ofType(e, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
    for (const zoneId of zones.keys()) {
      expect(
        links.filter((l) => l.id.startsWith(`${zoneId}/`) && l.properties.virtualNetwork.id === vnet.id),
      ).toHaveLength(1);
    }
    const groups = ofType(e, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups');
    const expectedZone: Record<string, string> = {
      blob: 'privatelink.blob.core.windows.net',
      queue: 'privatelink.queue.core.windows.net',
      table: 'privatelink.table.core.windows.net',
      Sql: 'privatelink.documents.azure.com',
    };
    const seen = endpoints.map((endpoint) => {
      expect(endpoint.properties.subnet.id).toBe(peSubnet);
      const [connection] = endpoint.properties.privateLinkServiceConnections;
      const [groupId] = connection.properties.groupIds;
      const group = groups.find((g) => g.id.startsWith(`${endpoint.id}/`))!;
      expect(group).toBeDefined();
      const zoneIds = group.properties.privateDnsZoneConfigs.map((c: Template) => c.properties.privateDnsZoneId);
      expect(zoneIds.map((id: string) => zones.get(id))).toEqual([expectedZone[groupId]]);
      return `${connection.properties.privateLinkServiceId} ${groupId}`;
    });
    const storage = single(e, 'Microsoft.Storage/storageAccounts').id;
    const expected = [
      ...['blob', 'queue', 'table'].map((g) => `${storage} ${g}`),
      ...ofType(e, 'Microsoft.DocumentDB/databaseAccounts').map((a) => `${a.id} Sql`),
    ];
    expect(seen.sort()).toEqual(expected.sort());
  });

  it('the function app is VNet-integrated through the delegated app subnet only with vnetEnabled', () => {
    const e = get(o);
    const app = functionApp(e);
    if (!o.vnetEnabled) {
      expect(app.properties.virtualNetworkSubnetId).toBeNull();
      return;
    }
    const vnet = single(e, 'Microsoft.Network/virtualNetworks');
    expect(app.properties.virtualNetworkSubnetId).toBe(`${vnet.id}/subnets/app`);
    const appSubnet = vnet.properties.subnets.find((s: Template) => s.name === 'app');
    expect(appSubnet.properties.delegations.map((d: Template) => d.properties.serviceName)).toEqual([
      'Microsoft.App/environments',
    ]);
    // The app still answers on its public HTTPS address: integration is outbound only.
    expect(app.properties.publicNetworkAccess).toBeUndefined();
  });

  it('diagnostic settings: Cosmos DB data-plane requests and blob, queue, table requests go to the Log Analytics workspace', () => {
    const e = get(o);
    const workspace = single(e, 'Microsoft.OperationalInsights/workspaces').id;
    const settings = ofType(e, 'Microsoft.Insights/diagnosticSettings');
    for (const s of settings) expect(s.properties.workspaceId).toBe(workspace);
    const categories = (scope: string) =>
      settings
        .filter((s) => s.scope === scope)
        .flatMap((s) => s.properties.logs.filter((l: Template) => l.enabled).map((l: Template) => l.category))
        .sort();
    for (const account of ofType(e, 'Microsoft.DocumentDB/databaseAccounts')) {
      expect(categories(account.id)).toEqual(['ControlPlaneRequests', 'DataPlaneRequests']);
      expect(settings.find((s) => s.scope === account.id)!.properties.logAnalyticsDestinationType).toBe('Dedicated');
    }
    const storage = single(e, 'Microsoft.Storage/storageAccounts').id;
    for (const service of ['blobServices', 'queueServices', 'tableServices']) {
      expect(categories(`${storage}/${service}/default`)).toEqual(['StorageDelete', 'StorageRead', 'StorageWrite']);
    }
    expect(settings).toHaveLength(3 + ofType(e, 'Microsoft.DocumentDB/databaseAccounts').length);
  });

  it('the developer holds data-plane roles and Monitoring Metrics Publisher exactly when developerRoles is on', () => {
    const e = get(o);
    const rbac = ofType(e, 'Microsoft.Authorization/roleAssignments').filter(
      (a) => a.properties.principalId === DEVELOPER,
    );
    const cosmos = ofType(e, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments').filter(
      (a) => a.properties.principalId === DEVELOPER,
    );
    if (!o.developerRoles) {
      expect(rbac).toEqual([]);
      expect(cosmos).toEqual([]);
      return;
    }
    const storage = single(e, 'Microsoft.Storage/storageAccounts').id;
    const insights = single(e, 'Microsoft.Insights/components').id;
    expect(rbac.map((a) => `${a.properties.roleDefinitionId} ${a.scope} ${a.properties.principalType}`).sort()).toEqual(
      [
        `${roleDefinition(ROLE.storageBlobDataOwner)} ${storage} User`,
        `${roleDefinition(ROLE.storageQueueDataContributor)} ${storage} User`,
        `${roleDefinition(ROLE.storageTableDataContributor)} ${storage} User`,
        `${roleDefinition(ROLE.monitoringMetricsPublisher)} ${insights} User`,
      ].sort(),
    );
    const accounts = ofType(e, 'Microsoft.DocumentDB/databaseAccounts');
    expect(cosmos.map((a) => a.properties.scope).sort()).toEqual(accounts.map((a) => a.id).sort());
    expect(e.outputs.DEVELOPER_ROLES).toBe(true);
  });

  it('every Azure RBAC role assignment names its principal type (no Entra lookup at assignment time)', () => {
    for (const assignment of ofType(get(o), 'Microsoft.Authorization/roleAssignments')) {
      expect(['ServicePrincipal', 'User', 'Group']).toContain(assignment.properties.principalType);
    }
  });

  it('App Service Authentication (authsettingsV2) and AUTHENTICATION_MODE=appService exactly when authClientId is set', () => {
    const e = get(o);
    const auth = ofType(e, 'Microsoft.Web/sites/config').filter((c) => c.name.endsWith('/authsettingsV2'));
    const settings = appSettings(e);
    expect(e.outputs.AUTHENTICATION_MODE).toBe(o.auth ? 'appService' : 'keys');
    // The output is copied into settings (azd env get-values): it must be a value the app starts with.
    process.env.AUTHENTICATION_MODE = String(e.outputs.AUTHENTICATION_MODE);
    try {
      expect(config.authenticationMode()).toBe(e.outputs.AUTHENTICATION_MODE);
    } finally {
      delete process.env.AUTHENTICATION_MODE;
    }
    if (!o.auth) {
      expect(auth).toEqual([]);
      expect(settings).not.toHaveProperty('AUTHENTICATION_MODE');
      return;
    }
    expect(settings.AUTHENTICATION_MODE).toBe('appService');
    expect(auth).toHaveLength(1);
    const { properties } = auth[0]!;
    expect(auth[0]!.id.startsWith(`${functionApp(e).id}/`)).toBe(true);
    expect(properties.platform.enabled).toBe(true);
    // Customer routes keep their function keys: no token is required, a token that is sent is validated.
    expect(properties.globalValidation).toEqual({
      requireAuthentication: false,
      unauthenticatedClientAction: 'AllowAnonymous',
    });
    const entra = properties.identityProviders.azureActiveDirectory;
    expect(entra.enabled).toBe(true);
    expect(entra.registration.clientId).toBe(AUTH_CLIENT_ID);
    expect(entra.registration.openIdIssuer).toBe(`https://login.microsoftonline.com/${TENANT_ID}/v2.0`);
    expect(entra.validation.allowedAudiences.sort()).toEqual([AUTH_CLIENT_ID, `api://${AUTH_CLIENT_ID}`].sort());
    // Keyless: no client secret setting, and no setting that could hold one.
    expect(JSON.stringify(properties)).not.toMatch(/secret|thumbprint|certificate/i);
    expect(
      Object.keys(settings).filter((name) => /MICROSOFT_PROVIDER_AUTHENTICATION_SECRET|CLIENT_SECRET/i.test(name)),
    ).toEqual([]);
  });
});

describe('context identities are created first, in parallel with the Cosmos DB account', () => {
  const deployments = (t: Template): Template[] =>
    (t.resources as Template[]).filter((r) => r.type === 'Microsoft.Resources/deployments');
  const named = (t: Template, prefix: string) =>
    deployments(t).filter((r) => String(r.name).startsWith(`[format('${prefix}-{0}'`));

  it('each identity is its own deployment that waits for nothing but the resource group', () => {
    const identities = named(template, 'identity');
    expect(identities).toHaveLength(1); // one copy loop over the contexts
    const identity = identities[0]!;
    expect(identity.copy.count).toBe("[length(variables('contexts'))]");
    const dependsOn: string[] = identity.dependsOn ?? [];
    expect(dependsOn).toHaveLength(1);
    expect(dependsOn[0]).toMatch(/^\[subscriptionResourceId\('Microsoft\.Resources\/resourceGroups'/);
    // The contexts (database, containers, role assignment) wait for their identity and take its ids.
    const contextModule = named(template, 'context')[0]!;
    expect(contextModule.dependsOn.some((d: string) => d.includes("format('identity-{0}'"))).toBe(true);
    for (const parameter of ['identityPrincipalId', 'identityClientId']) {
      const value = String(contextModule.properties.parameters[parameter].value);
      expect(value).toContain(
        "'Microsoft.Resources/deployments', format('identity-{0}', variables('contexts')[copyIndex()].name))",
      );
    }
  });

  it('the context module creates no identity of its own', () => {
    const contextModule = named(template, 'context')[0]!;
    const inner = Object.values<Template>(contextModule.properties.template.resources).map((r) => r.type);
    expect(inner).not.toContain('Microsoft.ManagedIdentity/userAssignedIdentities');
  });

  it('the Cosmos DB role of each context names the principal of the identity attached to the app', () => {
    const e = get(combinations[0]!);
    const attached = Object.keys(functionApp(e).identity.userAssignedIdentities);
    for (const [, identity] of contextIdentities(e)) {
      expect(attached).toContain(identity.id);
      const roles = ofType(e, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments').filter(
        (a) => a.properties.principalId === ref(identity.id, 'principalId'),
      );
      expect(roles).toHaveLength(1);
    }
    expect(attached).toContain(appIdentityId(e));
    expect(
      ofType(e, 'Microsoft.ManagedIdentity/userAssignedIdentities').every((i: DeployedResource) =>
        i.id.startsWith(`${resourceGroupId()}/`),
      ),
    ).toBe(true);
  });
});

describe('the options are azd environment variables', () => {
  it('main.parameters.json maps VNET_ENABLED, DEVELOPER_ROLES and AUTH_CLIENT_ID', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const parameters = require('../../infra/main.parameters.json').parameters;
    expect(parameters.vnetEnabled.value).toBe('${VNET_ENABLED=false}');
    expect(parameters.developerRoles.value).toBe('${DEVELOPER_ROLES=true}');
    expect(parameters.authClientId.value).toBe('${AUTH_CLIENT_ID}');
  });

  it('defaults: public, developer roles on (given a principal), no authentication', () => {
    const defaults = evaluate(template, { principalId: DEVELOPER });
    expect(ofType(defaults, 'Microsoft.Network/privateEndpoints')).toEqual([]);
    expect(defaults.outputs.DEVELOPER_ROLES).toBe(true);
    expect(defaults.outputs.VNET_ENABLED).toBe(false);
    expect(appSettings(defaults)).not.toHaveProperty('AUTHENTICATION_MODE');
    // azd always sets AZURE_PRINCIPAL_ID; without one there is nobody to grant anything to.
    expect(evaluate(template).outputs.DEVELOPER_ROLES).toBe(false);
  });
});
