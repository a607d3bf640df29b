/**
 * Amounts travel as numbers in major units (12.5 = twelve fifty) because that is what people
 * and the API read, but arithmetic happens in integer minor units so totals never drift.
 */
export const toMinor = (amount: number): number => Math.round(amount * 100);
export const fromMinor = (minor: number): number => minor / 100;

export function sumAmounts(amounts: readonly number[]): number {
  return fromMinor(amounts.reduce((total, amount) => total + toMinor(amount), 0));
}

export function lineTotal(unitPrice: number, quantity: number): number {
  return fromMinor(toMinor(unitPrice) * quantity);
}
