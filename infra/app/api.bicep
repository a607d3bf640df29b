// The function app `api` (azure.yaml service) on a Flex Consumption (FC1) plan, Node.js runtime.
// It runs as user-assigned identities only:
//   - its own identity: AzureWebJobsStorage (durable task hub), the deployment package, the
//     dead-letter queue, Application Insights ingestion;
//   - one identity per bounded context, used by that context's Cosmos DB client only.
// No key, secret or connection string with a secret is set anywhere.

param name string
param planName string
param location string
param tags object = {}

@description('azd service name (azure.yaml services.<name>), set as the azd-service-name tag.')
param serviceName string = 'api'

@description('Resource id of the app own user-assigned identity.')
param identityId string

@description('Client id of the app own user-assigned identity.')
param identityClientId string

@description('Resource ids of the bounded-context identities, attached to the app next to its own.')
param contextIdentityIds string[]

@description('App settings contributed by the bounded contexts (one object per context), merged into the app settings.')
param contextAppSettings object[]

@description('Further app settings (saga settings, task hub, queues).')
param appSettings object

param storageAccountName string

@description('Blob container (in storageAccountName) that holds the deployment package.')
param deploymentContainerName string

param applicationInsightsName string

@description('Node.js version of the Flex Consumption runtime.')
param nodeVersion string

@allowed([512, 2048, 4096])
param instanceMemoryMB int

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Subnet (delegated to Microsoft.App/environments) the app integrates with; empty: no VNet integration.')
param virtualNetworkSubnetId string = ''

@description('Client id of the Entra app registration App Service Authentication validates tokens for; empty: authentication off.')
param authClientId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: toObject(concat([identityId], contextIdentityIds), id => id, id => {})
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// Deployments go through Microsoft Entra (azd); publishing with basic credentials stays off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

var hostSettings = {
  // AzureWebJobsStorage through the app identity (no connection string): host, triggers and the
  // Durable Functions task hub (Azure Storage provider: blobs, queues, tables).
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Identity for code that uses DefaultAzureCredential without naming one (several are attached).
  AZURE_CLIENT_ID: identityClientId
  // Not a secret: with local auth disabled on the component, ingestion also needs an Entra token,
  // obtained with the identity named in the authentication string below.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(hostSettings, appSettings, reduce(contextAppSettings, {}, (merged, next) => union(merged, next)))
}

// App Service Authentication (Easy Auth), optional. Keyless: it validates the bearer tokens that
// Microsoft Entra issues for the app registration (issuer = the tenant, audience = the app) and
// hands the app the caller's claims, app roles included, in x-ms-client-principal. No client
// secret: there is no interactive sign-in flow, callers bring a token (docs/infra.md). Requests
// without a token are let through (AllowAnonymous): the customer routes keep their function keys;
// the approval and operator routes check the role in the client principal themselves.
resource authSettings 'Microsoft.Web/sites/config@2025-03-01' = if (!empty(authClientId)) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            authClientId
            'api://${authClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output id string = functionApp.id
output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
