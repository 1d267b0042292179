import { z } from 'zod';

/** The `inventory:` section of auditkit.yml. Owned by collectors/deploy/. */
export const inventoryConfigSchema = z
  .strictObject({
    hosts: z.record(z.string(), z.unknown()).default({}),
    groups: z.record(z.string(), z.unknown()).default({}),
  })
  .loose();

export type InventoryConfig = z.output<typeof inventoryConfigSchema>;
