/**
 * Reads a host's data the way an operator would: through the contexts' repositories, pointed at
 * the Cosmos endpoint the host's embedded server listens on (DATA_DIR/dependencies.json).
 */
import { readFileSync } from 'node:fs';
import { stateFile } from '../../../local/host/dependencies';
import { resetCosmosClients } from '../../../src/libs/cosmos';
import { readStock } from '../../../src/services/inventory/repository';
import { paymentsData, type LedgerEntry } from '../../../src/services/payments/repository';

/** Points this jest process's repositories at the host's Cosmos server; returns the undo. */
export function useHostCosmos(dataDir: string): () => void {
  const state = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as { cosmos: { endpoint: string } };
  const previous = process.env.COSMOS_ENDPOINT;
  process.env.COSMOS_ENDPOINT = state.cosmos.endpoint;
  resetCosmosClients();
  return () => {
    if (previous === undefined) delete process.env.COSMOS_ENDPOINT;
    else process.env.COSMOS_ENDPOINT = previous;
    resetCosmosClients();
  };
}

/** The payment gateway's records of an order: what it actually charged and refunded. */
export async function ledgerOf(orderId: string): Promise<{ charges: LedgerEntry[]; refunds: LedgerEntry[] }> {
  const { resources } = await paymentsData
    .container('gatewayLedger')
    .items.query<LedgerEntry>({
      query: 'SELECT * FROM c WHERE c.orderId = @orderId',
      parameters: [{ name: '@orderId', value: orderId }],
    })
    .fetchAll();
  return {
    charges: resources.filter((entry) => entry.operation === 'charge' && entry.status === 'charged'),
    refunds: resources.filter((entry) => entry.operation === 'refund' && entry.status === 'refunded'),
  };
}

/** Units of `sku` the order holds (0 when none). */
export async function heldBy(sku: string, orderId: string): Promise<number> {
  return (await readStock(sku))?.holds[orderId] ?? 0;
}
