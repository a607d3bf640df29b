// Order saga on Azure Durable Functions: the whole environment of one `azd` env.
//
//   resource group
//   ├─ monitoring        core/monitor/monitoring.bicep        Log Analytics + Application Insights (local auth off)
//   ├─ apiIdentity       core/security/user-assigned-identity  the function app's own identity
//   ├─ contextIdentities core/security/user-assigned-identity  one identity per bounded context, created
//   │                                                          first, in parallel with everything else
//   ├─ network           core/network/vnet.bicep               (vnetEnabled) VNet, subnets, private DNS zones;
//   │                    core/network/private-endpoint.bicep   private endpoints for blob, queue, table, Cosmos DB
//   ├─ storage           core/storage/storage-account.bicep    AzureWebJobsStorage + task hub, deployment package,
//   │                                                          dead-letter queue (no shared keys)
//   ├─ cosmos            core/database/cosmos-account.bicep    serverless Cosmos DB shared by the contexts
//   │                                                          (not created when cosmosAccountPerContext)
//   ├─ contextResources  app/context.bicep, one per `contexts` entry: database, containers, the data
//   │                    role of the context identity scoped to that database (and its own account when
//   │                    cosmosAccountPerContext)
//   └─ api               app/api.bicep                         Flex Consumption function app
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; used to name the resource group and to derive the task hub name.')
param environmentName string

@minLength(1)
@description('Region of every resource (must offer Flex Consumption).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the deploying developer (azd sets AZURE_PRINCIPAL_ID, always). Receives the developer roles when developerRoles is true.')
param principalId string = ''

@description('Grant principalId data-plane access (Cosmos DB Data Contributor on each account, storage blob/queue/table data roles) and Monitoring Metrics Publisher on Application Insights: to seed the catalog after provisioning and to run the app locally against these resources. On for a personal environment; set false (DEVELOPER_ROLES=false) for a shared or production one.')
param developerRoles bool = true

@description('Kind of principalId.')
@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('Resource group name; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Give every bounded context its own Cosmos DB account (COSMOS_ENDPOINT_<CONTEXT>) instead of one shared account (COSMOS_ENDPOINT).')
param cosmosAccountPerContext bool = false

@description('Private networking: the app is integrated with a new virtual network, storage (blob, queue, table) and Cosmos DB are reached through private endpoints, and their public network access is disabled. The app itself stays reachable over HTTPS.')
param vnetEnabled bool = false

@description('Client id of an existing Microsoft Entra app registration (app roles Orders.Approver, Orders.Operator; see docs/infra.md). Set: App Service Authentication validates bearer tokens for it and the app reads the caller from x-ms-client-principal (AUTHENTICATION_MODE=appService). Empty: no App Service Authentication.')
param authClientId string = ''

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most Flex Consumption instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Orders with a total at or above this wait for an approval (APPROVAL_THRESHOLD).')
param approvalThreshold int = 1000

@description('How long an order waits for its approval, ISO 8601 duration (APPROVAL_TIMEOUT).')
param approvalTimeout string = 'PT24H'

// The bounded contexts, one to one with src/services/<name>/ and with docs/architecture.md: each
// owns the Cosmos DB database of the same name and exactly these containers.
var contexts = [
  {
    name: 'orders'
    containers: [
      {
        name: 'orders'
        partitionKey: '/orderId'
        // The order list's ORDER BY c.updatedAt DESC, c.orderId DESC (ORDER_LIST_INDEX in
        // src/services/orders/repository.ts): orders updated at the same instant page by id.
        compositeIndexes: [
          [
            { path: '/updatedAt', order: 'descending' }
            { path: '/orderId', order: 'descending' }
          ]
        ]
      }
      { name: 'catalog', partitionKey: '/sku' }
    ]
  }
  {
    name: 'payments'
    containers: [
      { name: 'payments', partitionKey: '/orderId' }
      { name: 'gatewayLedger', partitionKey: '/id' }
    ]
  }
  {
    name: 'inventory'
    containers: [
      { name: 'stock', partitionKey: '/sku' }
      // One marker per order whose stock was committed: it refuses a reserve redelivered after the
      // order completed. 7 days (SOLD_ORDER_TTL_SECONDS in src/services/inventory/repository.ts),
      // far beyond any redelivery (a message's lease is minutes).
      { name: 'soldOrders', partitionKey: '/id', defaultTtl: 604800 }
    ]
  }
  {
    name: 'notifications'
    containers: [
      { name: 'messages', partitionKey: '/orderId' }
      { name: 'mailerLog', partitionKey: '/id' }
    ]
  }
  {
    name: 'analytics'
    containers: [
      { name: 'facts', partitionKey: '/orderId' }
    ]
  }
  {
    name: 'shipping'
    containers: [
      { name: 'shipments', partitionKey: '/orderId' }
      { name: 'carrierBookings', partitionKey: '/id' }
    ]
  }
  {
    name: 'loyalty'
    containers: [
      { name: 'ledger', partitionKey: '/customerId' }
    ]
  }
]

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var grantDeveloperRoles = developerRoles && !empty(principalId)
var authEnabled = !empty(authClientId)

var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var deadLetterQueueName = 'order-dead-letters'
// The saga's public facts (OrderCompleted / OrderCancelled) and where the host puts a message its consumer gave up on.
var orderEventsQueueName = 'order-events'
var sharedCosmosAccountName = '${abbrs.documentDBDatabaseAccounts}${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
var applicationInsightsName = '${abbrs.insightsComponents}${resourceToken}'
var vnetName = '${abbrs.networkVirtualNetworks}${resourceToken}'

// The private DNS zone of each private-endpoint sub-resource.
var privateDnsZones = {
  blob: 'privatelink.blob.${environment().suffixes.storage}'
  queue: 'privatelink.queue.${environment().suffixes.storage}'
  table: 'privatelink.table.${environment().suffixes.storage}'
  Sql: 'privatelink.documents.azure.com'
}

// Task hub names are alphanumeric (3-45 chars, starting with a letter): keep only the env name's
// letters and digits.
var environmentNameAlphanumeric = join(
  filter(
    map(range(0, length(environmentName)), i => substring(environmentName, i, 1)),
    c => contains('abcdefghijklmnopqrstuvwxyz0123456789', toLower(c))
  ),
  ''
)
var taskHubName = take('OrderSaga${environmentNameAlphanumeric}', 45)

// Built-in Azure RBAC roles (data plane of storage, metrics ingestion of Application Insights).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(resourceGroupName) ? '${abbrs.resourcesResourceGroups}${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module apiIdentity 'core/security/user-assigned-identity.bicep' = {
  name: 'api-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

// The context identities first, beside the app's, depending on nothing but the resource group: they
// are created while the Cosmos DB account is (minutes), so Entra knows their principals by the time
// the data-plane role assignments name them (sqlRoleAssignments has no principalType to skip
// that lookup).
module contextIdentities 'core/security/user-assigned-identity.bicep' = [
  for context in contexts: {
    name: 'identity-${context.name}'
    scope: rg
    params: {
      name: '${abbrs.managedIdentityUserAssignedIdentities}${context.name}-${resourceToken}'
      location: location
      tags: union(tags, { 'bounded-context': context.name })
    }
  }
]

module network 'core/network/vnet.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: vnetName
    location: location
    tags: tags
    privateDnsZones: privateDnsZones
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
    roleAssignments: concat(
      [
        {
          roleDefinitionId: roles.monitoringMetricsPublisher
          principalId: apiIdentity.outputs.principalId
          principalType: 'ServicePrincipal'
        }
      ],
      grantDeveloperRoles
        ? [
            {
              roleDefinitionId: roles.monitoringMetricsPublisher
              principalId: principalId
              principalType: principalType
            }
          ]
        : []
    )
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    containers: [deploymentContainerName]
    queues: [deadLetterQueueName, orderEventsQueueName, '${orderEventsQueueName}-poison']
    privateOnly: vnetEnabled
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    roleAssignments: concat(
      map(storageRoles, role => {
        roleDefinitionId: role
        principalId: apiIdentity.outputs.principalId
        principalType: 'ServicePrincipal'
      }),
      grantDeveloperRoles
        ? map(storageRoles, role => {
            roleDefinitionId: role
            principalId: principalId
            principalType: principalType
          })
        : []
    )
  }
}

module cosmos 'core/database/cosmos-account.bicep' = if (!cosmosAccountPerContext) {
  name: 'cosmos'
  scope: rg
  params: {
    name: sharedCosmosAccountName
    location: location
    tags: tags
    accountDataContributorPrincipalIds: grantDeveloperRoles ? [principalId] : []
    privateOnly: vnetEnabled
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
  }
}

var storagePrivateEndpoints = vnetEnabled ? ['blob', 'queue', 'table'] : []

module storagePrivateEndpoint 'core/network/private-endpoint.bicep' = [
  for groupId in storagePrivateEndpoints: {
    name: 'pe-storage-${groupId}'
    scope: rg
    params: {
      name: '${abbrs.networkPrivateEndpoints}${groupId}-${resourceToken}'
      location: location
      tags: tags
      subnetId: network.?outputs.privateEndpointSubnetId ?? ''
      serviceId: storage.outputs.id
      groupId: groupId
      privateDnsZoneId: network.?outputs.privateDnsZoneIds[groupId] ?? ''
    }
  }
]

module cosmosPrivateEndpoint 'core/network/private-endpoint.bicep' = if (vnetEnabled && !cosmosAccountPerContext) {
  name: 'pe-cosmos'
  scope: rg
  params: {
    name: '${abbrs.networkPrivateEndpoints}cosmos-${resourceToken}'
    location: location
    tags: tags
    subnetId: network.?outputs.privateEndpointSubnetId ?? ''
    serviceId: cosmos.?outputs.id ?? ''
    groupId: 'Sql'
    privateDnsZoneId: network.?outputs.privateDnsZoneIds.Sql ?? ''
  }
}

// One deployment per bounded context, one after the other: Cosmos DB serializes role assignments
// on an account.
@batchSize(1)
module contextResources 'app/context.bicep' = [
  for (context, i) in contexts: {
    name: 'context-${context.name}'
    scope: rg
    params: {
      contextName: context.name
      containers: context.containers
      identityName: '${abbrs.managedIdentityUserAssignedIdentities}${context.name}-${resourceToken}'
      identityPrincipalId: contextIdentities[i].outputs.principalId
      identityClientId: contextIdentities[i].outputs.clientId
      cosmosAccountName: cosmosAccountPerContext
        ? '${abbrs.documentDBDatabaseAccounts}${context.name}-${resourceToken}'
        : sharedCosmosAccountName
      ownAccount: cosmosAccountPerContext
      developerPrincipalId: grantDeveloperRoles ? principalId : ''
      privateNetworking: vnetEnabled
      privateEndpointSubnetId: vnetEnabled ? network.?outputs.privateEndpointSubnetId ?? '' : ''
      cosmosPrivateDnsZoneId: vnetEnabled ? network.?outputs.privateDnsZoneIds.Sql ?? '' : ''
      logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
      location: location
      tags: tags
    }
    dependsOn: [
      cosmos
    ]
  }
]

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: apiIdentity.outputs.id
    identityClientId: apiIdentity.outputs.clientId
    contextIdentityIds: [for (context, i) in contexts: contextIdentities[i].outputs.id]
    contextAppSettings: [for (context, i) in contexts: contextResources[i].outputs.appSettings]
    appSettings: union(
      {
        APPROVAL_THRESHOLD: string(approvalThreshold)
        APPROVAL_TIMEOUT: approvalTimeout
        TASK_HUB_NAME: taskHubName
        DEAD_LETTER_QUEUE: deadLetterQueueName
      },
      cosmosAccountPerContext ? {} : { COSMOS_ENDPOINT: cosmos.?outputs.endpoint ?? '' },
      // Read by the app: the caller's identity and roles come from the x-ms-client-principal header,
      // which App Service Authentication sets (and strips from what clients send).
      authEnabled ? { AUTHENTICATION_MODE: 'appService' } : {}
    )
    storageAccountName: storageAccountName
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: applicationInsightsName
    nodeVersion: '22'
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    virtualNetworkSubnetId: vnetEnabled ? network.?outputs.appSubnetId ?? '' : ''
    authClientId: authClientId
  }
  // The app reads the storage account and Application Insights by name (storage itself waits for
  // monitoring); with private networking its storage is reachable only once the endpoints exist.
  dependsOn: [
    storage
    storagePrivateEndpoint
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_QUEUE_ENDPOINT string = storage.outputs.queueEndpoint
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output COSMOS_ACCOUNT_PER_CONTEXT bool = cosmosAccountPerContext
@description('The shared Cosmos DB account; empty when every context has its own (see COSMOS_CONTEXT_ENDPOINTS).')
output COSMOS_ENDPOINT string = cosmosAccountPerContext ? '' : cosmos.?outputs.endpoint ?? ''
@description('The Cosmos DB endpoint of each bounded context (the shared one, or its own with cosmosAccountPerContext).')
output COSMOS_CONTEXT_ENDPOINTS array = [
  for (context, i) in contexts: { context: context.name, endpoint: contextResources[i].outputs.cosmosEndpoint }
]
output TASK_HUB_NAME string = taskHubName
@description('For the postprovision hook: whether the deployer holds the data roles that seeding needs, and whether Cosmos DB is reachable from outside the network.')
output DEVELOPER_ROLES bool = grantDeveloperRoles
output VNET_ENABLED bool = vnetEnabled
@description('The app\'s AUTHENTICATION_MODE, in the words the app accepts (src/libs/config.ts).')
output AUTHENTICATION_MODE string = authEnabled ? 'appService' : 'keys'
output DEAD_LETTER_QUEUE string = deadLetterQueueName
