// Private networking of the environment (vnetEnabled): one virtual network with
//   - `app`: the subnet the Flex Consumption app integrates with (its outbound traffic), delegated
//     to Microsoft.App/environments as Flex Consumption requires;
//   - `private-endpoints`: the private endpoints of storage (blob, queue, table) and Cosmos DB;
// and the private DNS zones that make the services' usual host names resolve to those endpoints
// from inside the network.

param name string
param location string
param tags object = {}

@description('Private DNS zones to create and link to the network, by key (e.g. blob: privatelink.blob.core.windows.net).')
param privateDnsZones object

resource vnet 'Microsoft.Network/virtualNetworks@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: ['10.0.0.0/16']
    }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: '10.0.1.0/24'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: '10.0.2.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in items(privateDnsZones): {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in items(privateDnsZones): {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output id string = vnet.id
output appSubnetId string = vnet::appSubnet.id
output privateEndpointSubnetId string = vnet::privateEndpointSubnet.id
@description('Resource id of each private DNS zone, by the key given in privateDnsZones.')
output privateDnsZoneIds object = toObject(items(privateDnsZones), zone => zone.key, zone => resourceId('Microsoft.Network/privateDnsZones', zone.value))
