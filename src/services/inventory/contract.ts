/** The inventory context's activities: each registered name with its command and the facts it answers. */
import { activity } from '../../libs/activity';
import {
  CommitStock,
  ReleaseStock,
  ReserveStock,
  StockCommitted,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '../../libs/events';

export const InventoryContract = {
  reserve: activity('reserveStock', ReserveStock, [StockReserved, StockUnavailable]),
  release: activity('releaseStock', ReleaseStock, [StockReleased]),
  commit: activity('commitStock', CommitStock, [StockCommitted]),
} as const;

/** The registered names alone. */
export const InventoryActivities = {
  reserve: InventoryContract.reserve.name,
  release: InventoryContract.release.name,
  commit: InventoryContract.commit.name,
} as const;
