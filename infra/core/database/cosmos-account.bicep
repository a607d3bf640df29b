// Serverless Cosmos DB (NoSQL) account with local (key) auth disabled: every data-plane call needs a
// Microsoft Entra identity holding a Cosmos DB data-plane role (sqlRoleAssignments). The databases are
// created by the bounded contexts that own them (app/context.bicep), not here.

@minLength(3)
@maxLength(44)
param name string
param location string
param tags object = {}

@description('Principals (e.g. the deploying developer) granted Cosmos DB Built-in Data Contributor on the WHOLE account. Leave empty in production.')
param accountDataContributorPrincipalIds string[] = []

@description('Refuse every request from the public internet (reach it through a private endpoint).')
param privateOnly bool = false

@description('Log Analytics workspace that receives the data-plane request logs.')
param logAnalyticsWorkspaceId string

// Cosmos DB Built-in Data Contributor (a data-plane role of the account, not an Azure RBAC role).
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [
      { name: 'EnableServerless' }
    ]
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
  }
}

// Every data-plane request (database, container, operation, status code, the caller's Entra
// principal) into its own table, CDBDataPlaneRequests: where a context reaching into another
// context's database shows up as a 403.
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'requests-to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      { category: 'DataPlaneRequests', enabled: true }
      { category: 'ControlPlaneRequests', enabled: true }
    ]
  }
}

// Role assignments on one account take an exclusive lock on it: create them one at a time.
@batchSize(1)
resource accountDataContributors 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-10-15' = [
  for principalId in accountDataContributorPrincipalIds: {
    parent: account
    name: guid(account.id, principalId, dataContributorRoleId)
    properties: {
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
      principalId: principalId
      scope: account.id
    }
  }
]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
