// Types shared by the modules. Imported at compile time (`import ... from`), nothing is deployed.

@export()
@description('An Azure RBAC role to grant on the resource a module creates.')
type roleAssignment = {
  @description('Built-in role definition GUID, e.g. b7e6dc6d-f1e8-4753-8033-0f276bb0955b (Storage Blob Data Owner).')
  roleDefinitionId: string

  @description('Object id of the identity that receives the role.')
  principalId: string

  principalType: 'ServicePrincipal' | 'User' | 'Group'
}

@export()
@description('A Cosmos DB container and its partition key path.')
type cosmosContainer = {
  name: string

  @description('Partition key path, e.g. /orderId.')
  partitionKey: string

  @description('Seconds after its last write that Cosmos DB deletes a document (the container default TTL); absent: documents stay.')
  defaultTtl: int?

  @description('Composite indexes, each its paths in order: what an ORDER BY over more than one field needs; absent: none.')
  compositeIndexes: compositePath[][]?
}

@export()
@description('One path of a composite index.')
type compositePath = {
  @description('Property path, e.g. /updatedAt.')
  path: string

  order: 'ascending' | 'descending'
}

@export()
@description('A bounded context: the folder src/services/<name>, its Cosmos DB database (same name) and containers.')
type boundedContext = {
  name: string
  containers: cosmosContainer[]
}
