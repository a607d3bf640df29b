/** The inventory context's activities, as the orchestrator calls them. */
export const InventoryActivities = {
  reserve: 'reserveStock',
  release: 'releaseStock',
} as const;
