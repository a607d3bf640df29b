/**
 * The demo catalog. One item is priced above the approval threshold (with little stock) for the
 * approval demo; the rest are everyday items with plenty of stock.
 */
import type { Currency } from '../../src/libs/events';

export interface SeedItem {
  sku: string;
  name: string;
  prices: Record<Currency, number>;
  stock: number;
}

export const SEED_CATALOG: readonly SeedItem[] = [
  { sku: 'LAPTOP-PRO-16', name: 'Laptop Pro 16"', prices: { EUR: 1899, USD: 1999, GBP: 1649 }, stock: 5 },
  { sku: 'MONITOR-27-4K', name: '27" 4K monitor', prices: { EUR: 349, USD: 379, GBP: 299 }, stock: 25 },
  { sku: 'HEADPHONES-NC', name: 'Noise-cancelling headphones', prices: { EUR: 249, USD: 269, GBP: 219 }, stock: 40 },
  { sku: 'KEYBOARD-MECH', name: 'Mechanical keyboard', prices: { EUR: 129.9, USD: 139.9, GBP: 114.9 }, stock: 60 },
  { sku: 'MOUSE-ERGO', name: 'Ergonomic mouse', prices: { EUR: 79.5, USD: 84.5, GBP: 69.5 }, stock: 80 },
  { sku: 'USB-C-DOCK', name: 'USB-C dock', prices: { EUR: 189, USD: 199, GBP: 169 }, stock: 30 },
];
