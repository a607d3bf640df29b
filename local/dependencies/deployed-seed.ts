/**
 * Seeding a deployed environment (the azd `postprovision` hook, scripts/postprovision.ts): the
 * demo catalog and its stock go in through the Cosmos DB data plane, each through the repository
 * of the context that owns it, with the deployer's own Microsoft Entra identity (the developer
 * roles of infra/main.bicep). Never a key: the accounts refuse them.
 *
 * What a re-provision does: items missing from the catalog or the stock are created; items already
 * there are left exactly as they are. Stock is live state (what was sold, what orders hold), so a
 * seed never resets it; a price changed in Azure stays changed. The local-only `--reset` of
 * `npm run seed` is refused against a deployed account.
 */
import { cosmosStatus, isLocalEndpoint } from '../../src/libs/cosmos';
import { seedDemoCatalog } from './provision';
import { SEED_CATALOG, type SeedItem } from './seed-data';

/** The azd environment values the hook reads (azd passes them to hooks as environment variables). */
export interface AzdOutputs {
  SERVICE_API_URI?: string;
  AZURE_FUNCTION_APP_NAME?: string;
  AZURE_RESOURCE_GROUP?: string;
  COSMOS_ENDPOINT?: string;
  /** JSON array of { context, endpoint }, one per bounded context. */
  COSMOS_CONTEXT_ENDPOINTS?: string;
  DEVELOPER_ROLES?: string;
  VNET_ENABLED?: string;
  AUTHENTICATION_MODE?: string;
  /** azd's environment value (not an output): the app registration App Service Authentication validates tokens for. */
  AUTH_CLIENT_ID?: string;
}

/** The contexts whose data the seed writes: the catalog (orders) and the stock (inventory). */
const SEEDED_CONTEXTS = ['orders', 'inventory'] as const;

/**
 * The app settings the repositories need to reach the deployed accounts: COSMOS_ENDPOINT_<CONTEXT>
 * for each seeded context, from the per-context endpoints (or the shared one).
 */
export function cosmosSettings(outputs: AzdOutputs): Record<string, string> {
  const endpoints = new Map<string, string>();
  if (outputs.COSMOS_CONTEXT_ENDPOINTS) {
    const parsed: unknown = JSON.parse(outputs.COSMOS_CONTEXT_ENDPOINTS);
    if (!Array.isArray(parsed)) throw new Error('COSMOS_CONTEXT_ENDPOINTS is not a JSON array');
    for (const entry of parsed as { context?: unknown; endpoint?: unknown }[]) {
      if (typeof entry.context === 'string' && typeof entry.endpoint === 'string' && entry.endpoint)
        endpoints.set(entry.context, entry.endpoint);
    }
  }
  const settings: Record<string, string> = {};
  for (const context of SEEDED_CONTEXTS) {
    const endpoint = endpoints.get(context) ?? outputs.COSMOS_ENDPOINT;
    if (!endpoint)
      throw new Error(
        `no Cosmos DB endpoint for ${context}: run after \`azd provision\` (COSMOS_CONTEXT_ENDPOINTS / COSMOS_ENDPOINT)`,
      );
    settings[`COSMOS_ENDPOINT_${context.toUpperCase()}`] = endpoint;
  }
  return settings;
}

export type SeedPlan = { seed: true } | { seed: false; reason: string };

/** Whether this machine can seed the environment at all, and why not. */
export function seedPlan(outputs: AzdOutputs): SeedPlan {
  if (outputs.VNET_ENABLED === 'true') {
    return {
      seed: false,
      reason:
        'Cosmos DB accepts private-endpoint traffic only (vnetEnabled), so this machine cannot reach it. ' +
        'Seed from a machine inside the virtual network: `npm run seed` with COSMOS_ENDPOINT_ORDERS and COSMOS_ENDPOINT_INVENTORY set from COSMOS_CONTEXT_ENDPOINTS (`azd env get-values`).',
    };
  }
  if (outputs.DEVELOPER_ROLES !== 'true') {
    return {
      seed: false,
      reason:
        'the deployer holds no Cosmos DB data role (DEVELOPER_ROLES=false). Seed with an identity that does: ' +
        '`npm run seed` with COSMOS_ENDPOINT_ORDERS and COSMOS_ENDPOINT_INVENTORY set.',
    };
  }
  return { seed: true };
}

export interface RetryOptions {
  attempts?: number;
  delayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

/**
 * Runs `seed`, retrying while Cosmos DB answers 403: a data-plane role assignment made by the
 * provision that just finished can take a few minutes to apply. Any other error ends it at once.
 */
export async function withRoleRetry(seed: () => Promise<void>, options: RetryOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 20;
  const delayMs = options.delayMs ?? 15_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      await seed();
      return;
    } catch (error) {
      if (cosmosStatus(error) !== 403 || attempt >= attempts) throw error;
      options.log?.(
        `seed: Cosmos DB refused the request (403: the new data role is not effective yet), retrying in ${Math.round(delayMs / 1000)} s (${attempt}/${attempts})`,
      );
      await sleep(delayMs);
    }
  }
}

/**
 * Seeds the catalog and stock of a deployed environment: create what is missing, leave what is
 * there. The repositories read their endpoints from the environment, so `cosmosSettings` must be
 * applied to process.env first.
 */
export async function seedDeployment(
  items: readonly SeedItem[] = SEED_CATALOG,
  options: RetryOptions = {},
): Promise<void> {
  await withRoleRetry(() => seedDemoCatalog(items, { reset: false }), options);
}

/**
 * The identity the postprovision hook seeds as: azd's own sign-in. The provision granted the data
 * roles to azd's principal (AZURE_PRINCIPAL_ID), and the "dev" chain of DefaultAzureCredential
 * would ask the Azure CLI first, which may be signed in as someone else. A value already set wins.
 */
export function useAzdSignIn(env: NodeJS.ProcessEnv = process.env): void {
  env.AZURE_TOKEN_CREDENTIALS ??= 'AzureDeveloperCliCredential';
}

/** What to run next, printed at the end of the hook. */
export function demoInstructions(outputs: AzdOutputs): string[] {
  const url = outputs.SERVICE_API_URI;
  if (!url) throw new Error('SERVICE_API_URI is not set: run after `azd provision`');
  const keys = (query: string) =>
    `"$(az functionapp keys list --resource-group ${outputs.AZURE_RESOURCE_GROUP} --name ${outputs.AZURE_FUNCTION_APP_NAME} --query ${query} --output tsv)"`;
  // Without App Service Authentication the approval and operator routes take the master key;
  // behind it, they take the caller's Entra token for the app, whose roles the app reads.
  const signedIn = outputs.AUTHENTICATION_MODE === 'appService';
  const privileged = signedIn
    ? ` --token "$(az account get-access-token --resource api://${outputs.AUTH_CLIENT_ID ?? '<AUTH_CLIENT_ID>'} --query accessToken --output tsv)"`
    : ` --admin-key ${keys('masterKey')}`;
  const lines = [
    `App: ${url}`,
    'Once the code is deployed (`azd up` deploys right after this hook; otherwise `azd deploy`), run the demo against it:',
    `  npm run demo -- ${url} --key ${keys('functionKeys.default')}${privileged}`,
  ];
  if (signedIn) {
    lines.push(
      'App Service Authentication is on: the token is yours, and you need the app roles Orders.Approver and Orders.Operator; the registration must let the Azure CLI ask for it (docs/infra.md).',
    );
  }
  return lines;
}

/** `npm run seed`: a deployed account takes the same idempotent seed, never a reset. */
export function assertResetAllowed(endpoints: string[], reset: boolean): void {
  const remote = endpoints.filter((endpoint) => !isLocalEndpoint(endpoint));
  if (reset && remote.length > 0) {
    throw new Error(
      `--reset overwrites stock (what was sold, what orders hold): refused for a deployed account (${remote.join(', ')})`,
    );
  }
}
