/**
 * Helpers of the infra tests: compile infra/main.bicep with the project's Bicep CLI resolver
 * (scripts/bicep.mjs; a missing compiler throws, so the tests fail), play the compiled template
 * offline (./arm.ts) and the checks the tests run over the result.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeployedResource, Evaluation, evaluateTemplate, ref, SUBSCRIPTION_ID } from './arm';

export const ROOT = resolve(__dirname, '..', '..');

export const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002',
} as const;

export const ENV_NAME = 'saga-dev_1';
export const LOCATION = 'swedencentral';
export const DEVELOPER = '11111111-2222-3333-4444-555555555555';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Template = any;

/** Compiles a Bicep file to ARM JSON through scripts/bicep.mjs (resolving or restoring the CLI). */
export function compileBicep(file = 'infra/main.bicep'): { template: Template; text: string } {
  const text = execFileSync(process.execPath, [join(ROOT, 'scripts', 'bicep.mjs'), 'build', file, '--stdout'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  return { template: JSON.parse(text), text };
}

export function evaluate(template: Template, parameters: Record<string, unknown> = {}): Evaluation {
  return evaluateTemplate(template, { environmentName: ENV_NAME, location: LOCATION, ...parameters }, LOCATION);
}

export function ofType(evaluation: Evaluation, type: string): DeployedResource[] {
  return evaluation.resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
}

export function single(evaluation: Evaluation, type: string): DeployedResource {
  const found = ofType(evaluation, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

export function functionApp(evaluation: Evaluation): DeployedResource {
  return single(evaluation, 'Microsoft.Web/sites');
}

export function appSettings(evaluation: Evaluation): Record<string, string> {
  const configs = ofType(evaluation, 'Microsoft.Web/sites/config').filter((r) => r.name.endsWith('/appsettings'));
  if (configs.length !== 1) throw new Error(`expected one appsettings resource, found ${configs.length}`);
  return configs[0]!.properties;
}

/** The user-assigned identity of each bounded context, found by its bounded-context tag. */
export function contextIdentities(evaluation: Evaluation): Map<string, DeployedResource> {
  const identities = new Map<string, DeployedResource>();
  for (const identity of ofType(evaluation, 'Microsoft.ManagedIdentity/userAssignedIdentities')) {
    const context = identity.tags?.['bounded-context'];
    if (context === undefined) continue;
    if (identities.has(context)) throw new Error(`two identities for context ${context}`);
    identities.set(context, identity);
  }
  return identities;
}

/** The function app's own identity: the one used by its deployment storage. */
export function appIdentityId(evaluation: Evaluation): string {
  return functionApp(evaluation).properties.functionAppConfig.deployment.storage.authentication
    .userAssignedIdentityResourceId;
}

export function resourceGroupId(): string {
  return `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-${ENV_NAME}`;
}

export function roleDefinition(guid: string): string {
  return `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}

/** Bounded contexts in code: the folders of src/services/. */
export function serviceFolders(): string[] {
  return readdirSync(join(ROOT, 'src', 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** Rows of the "Bounded contexts and the data each owns" table of docs/architecture.md. */
export function architectureContainers(): {
  context: string;
  database: string;
  container: string;
  partitionKey: string;
}[] {
  const text = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const rows: { context: string; database: string; container: string; partitionKey: string }[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim().replace(/`/g, ''));
    if (cells[0] === 'context' && cells[1] === 'database') {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (cells.length < 4) break;
    if (/^-+$/.test(cells[0]!)) continue;
    rows.push({ context: cells[0]!, database: cells[1]!, container: cells[2]!, partitionKey: cells[3]! });
  }
  return rows;
}

/**
 * Isolation rule: every Cosmos DB data-plane role of a context identity is scoped to that
 * context's own database, and each context identity holds exactly one. Returns the violations.
 */
export function isolationViolations(evaluation: Evaluation): string[] {
  const violations: string[] = [];
  const assignments = ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments');
  const databases = ofType(evaluation, 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
  for (const [context, identity] of contextIdentities(evaluation)) {
    const principal = ref(identity.id, 'principalId');
    const own = databases.filter((db) => db.name.split('/')[1] === context);
    if (own.length !== 1) {
      violations.push(`${context}: expected one database named ${context}, found ${own.length}`);
      continue;
    }
    const accountId = own[0]!.id.replace(/\/sqlDatabases\/[^/]+$/, '');
    const held = assignments.filter((a) => a.properties.principalId === principal);
    if (held.length !== 1)
      violations.push(`${context}: its identity holds ${held.length} Cosmos DB role assignments, expected 1`);
    for (const assignment of held) {
      if (assignment.properties.scope !== `${accountId}/dbs/${context}`) {
        violations.push(`${context}: its identity has a role at ${assignment.properties.scope}`);
      }
      if (assignment.properties.roleDefinitionId !== `${accountId}/sqlRoleDefinitions/${ROLE.cosmosDataContributor}`) {
        violations.push(`${context}: its identity has role ${assignment.properties.roleDefinitionId}`);
      }
      if (!assignment.id.startsWith(`${accountId}/`))
        violations.push(`${context}: its role assignment lives in another account (${assignment.id})`);
    }
  }
  return violations;
}

const SECRET_NAME = /key|secret|password|passwd|pwd|token|connectionstring|connection_string|sas|credential/i;
const SECRET_VALUE =
  /AccountKey=|SharedAccessKey|SharedAccessSignature|\bsig=|DefaultEndpointsProtocol=|UseDevelopmentStorage|InstrumentationKey=|listKeys|listConnectionStrings|listSecrets|listCredentials|\blist[A-Za-z]*\(/;

/**
 * App settings that carry no secret by construction. Each entry says how it must be built, and
 * the check fails if the template builds it any other way.
 *  - APPLICATIONINSIGHTS_CONNECTION_STRING: the component's own ConnectionString. It holds the
 *    ingestion endpoint and instrumentation key, which are identifiers, not credentials, once the
 *    component has DisableLocalAuth: ingestion then needs an Entra token (see docs/infra.md).
 *  - AzureWebJobsStorage__credential: the literal "managedidentity".
 */
export function allowedSecretLikeSettings(evaluation: Evaluation): Record<string, string> {
  const insights = single(evaluation, 'Microsoft.Insights/components');
  return {
    APPLICATIONINSIGHTS_CONNECTION_STRING: ref(insights.id, 'ConnectionString'),
    AzureWebJobsStorage__credential: 'managedidentity',
  };
}

/** Secrets in app settings and in every output (main and nested deployments). Returns findings. */
export function secretFindings(evaluation: Evaluation): string[] {
  const findings: string[] = [];
  const allowed = allowedSecretLikeSettings(evaluation);
  for (const [name, value] of Object.entries(appSettings(evaluation))) {
    if (SECRET_VALUE.test(String(value))) findings.push(`app setting ${name} has a secret-looking value`);
    if (SECRET_NAME.test(name)) {
      if (!(name in allowed)) findings.push(`app setting ${name} has a secret-looking name`);
      else if (value !== allowed[name]) findings.push(`app setting ${name} is not built as documented: ${value}`);
    }
  }
  const outputs: [string, Record<string, unknown>][] = [
    ['main', evaluation.outputs],
    ...evaluation.deployments.map((d): [string, Record<string, unknown>] => [d.path.join('/'), d.outputs]),
  ];
  for (const [where, values] of outputs) {
    for (const [name, value] of Object.entries(values)) {
      if (SECRET_NAME.test(name)) findings.push(`output ${name} of ${where} has a secret-looking name`);
      if (SECRET_VALUE.test(JSON.stringify(value)))
        findings.push(`output ${name} of ${where} has a secret-looking value`);
      if (/connectionstring/i.test(JSON.stringify(value)))
        findings.push(`output ${name} of ${where} carries a connection string`);
    }
  }
  return findings;
}

/** Secrets in the compiled template text itself: list*() calls, keys, secure outputs. */
export function templateTextFindings(text: string): string[] {
  const findings: string[] = [];
  const calls = text.match(/\blist[A-Za-z]*\(/g);
  if (calls) findings.push(`list*() calls: ${[...new Set(calls)].join(' ')}`);
  for (const pattern of [
    /AccountKey=/,
    /SharedAccessKey/,
    /SharedAccessSignature/,
    /DefaultEndpointsProtocol=/,
    /InstrumentationKey=/,
    /primaryMasterKey/i,
    /primaryKey/i,
  ]) {
    if (pattern.test(text)) findings.push(`template text matches ${pattern}`);
  }
  const template = JSON.parse(text);
  const walk = (node: Template, path: string) => {
    if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries<Template>(node)) {
        if (key === 'outputs' && value && typeof value === 'object') {
          for (const [name, output] of Object.entries<Template>(value)) {
            if (/^secure/i.test(String(output?.type))) findings.push(`secure output ${path}/${name}`);
          }
        }
        walk(value, `${path}/${key}`);
      }
    }
  };
  walk(template, '');
  return findings;
}
