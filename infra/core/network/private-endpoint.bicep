// A private endpoint for one sub-resource (groupId) of a service, in the private-endpoints subnet,
// registered in the private DNS zone of that sub-resource.

param name string
param location string
param tags object = {}

@description('Subnet of the endpoint.')
param subnetId string

@description('Resource id of the service (storage account, Cosmos DB account).')
param serviceId string

@description('Sub-resource: blob, queue, table (storage) or Sql (Cosmos DB).')
param groupId string

@description('Private DNS zone the endpoint registers its address in.')
param privateDnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2025-07-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: privateDnsZoneId
        }
      }
    ]
  }
}

output id string = endpoint.id
