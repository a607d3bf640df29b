// ONE bounded context (src/services/<contextName>) and everything it owns in Azure:
//   - its Cosmos DB database, named after the context, with its containers and partition keys;
//   - Cosmos DB Built-in Data Contributor for the context identity, scoped to that database ONLY;
//   - optionally (cosmosAccountPerContext) its own serverless Cosmos DB account, with its private
//     endpoint when private networking is on.
// The context identity itself is created by main.bicep, early and in parallel with the accounts
// (see contextIdentities there); this module receives its ids.
// main.bicep deploys this module once per entry of its `contexts` array.

import { cosmosContainer } from '../core/types.bicep'

@description('Bounded context name: the folder under src/services/ and the Cosmos DB database name.')
param contextName string

@description('The containers of the context database.')
param containers cosmosContainer[]

@description('Name of the context identity (created by main.bicep, attached to the function app).')
param identityName string

@description('Principal (object) id of the context identity: the one its data role names.')
param identityPrincipalId string

@description('Client id of the context identity: the context Cosmos client authenticates with it.')
param identityClientId string

@description('Cosmos DB account holding the database: the shared account, or the context own account when ownAccount is true.')
param cosmosAccountName string

@description('Create cosmosAccountName here, for this context only, instead of using the shared account.')
param ownAccount bool = false

@description('Deploying developer (object id) granted data access on the context own account; empty for none. Ignored when the account is shared.')
param developerPrincipalId string = ''

@description('Private networking: the own account refuses public access and gets a private endpoint.')
param privateNetworking bool = false

@description('Private networking, own account only: the subnet of its private endpoint.')
param privateEndpointSubnetId string = ''

@description('Private networking, own account only: the privatelink.documents.azure.com zone.')
param cosmosPrivateDnsZoneId string = ''

@description('Log Analytics workspace for the own account request logs.')
param logAnalyticsWorkspaceId string

param location string
param tags object = {}

// Cosmos DB Built-in Data Contributor (data-plane role definition of every account).
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'
var contextTags = union(tags, { 'bounded-context': contextName })

module ownCosmos '../core/database/cosmos-account.bicep' = if (ownAccount) {
  name: 'cosmos-${contextName}'
  params: {
    name: cosmosAccountName
    location: location
    tags: contextTags
    accountDataContributorPrincipalIds: empty(developerPrincipalId) ? [] : [developerPrincipalId]
    privateOnly: privateNetworking
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
  }
}

module ownCosmosPrivateEndpoint '../core/network/private-endpoint.bicep' = if (ownAccount && privateNetworking) {
  name: 'pe-cosmos-${contextName}'
  params: {
    name: 'pe-${cosmosAccountName}'
    location: location
    tags: contextTags
    subnetId: privateEndpointSubnetId
    serviceId: ownCosmos.?outputs.id ?? ''
    groupId: 'Sql'
    privateDnsZoneId: cosmosPrivateDnsZoneId
  }
}

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-10-15' existing = {
  name: cosmosAccountName
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-10-15' = {
  parent: account
  name: contextName
  tags: contextTags
  properties: {
    resource: {
      id: contextName
    }
  }
  dependsOn: [
    ownCosmos
  ]
}

resource databaseContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-10-15' = [
  for container in containers: {
    parent: database
    name: container.name
    tags: contextTags
    properties: {
      resource: union(
        {
          id: container.name
          partitionKey: {
            paths: [container.partitionKey]
            kind: 'Hash'
            version: 2
          }
        },
        container.?defaultTtl == null ? {} : { defaultTtl: container.?defaultTtl },
        // The default policy (every path, consistent), plus the container's composite indexes.
        container.?compositeIndexes == null
          ? {}
          : {
              indexingPolicy: {
                indexingMode: 'consistent'
                automatic: true
                includedPaths: [{ path: '/*' }]
                excludedPaths: [{ path: '/"_etag"/?' }]
                compositeIndexes: container.?compositeIndexes
              }
            }
      )
    }
  }
]

// The isolation rule: this identity may read and write ITS database and nothing else in the account.
resource databaseDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-10-15' = {
  parent: account
  name: guid(account.id, resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', identityName), contextName, dataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: identityPrincipalId
    scope: '${account.id}/dbs/${database.name}'
  }
  dependsOn: [
    databaseContainers
  ]
}

var settingPrefix = toUpper(contextName)

output contextName string = contextName
output databaseName string = database.name
output cosmosEndpoint string = account.properties.documentEndpoint

@description('App settings this context contributes: its identity client id and, with its own account, its endpoint.')
output appSettings object = union(
  { '${settingPrefix}_IDENTITY_CLIENT_ID': identityClientId },
  ownAccount ? { 'COSMOS_ENDPOINT_${settingPrefix}': account.properties.documentEndpoint } : {}
)
