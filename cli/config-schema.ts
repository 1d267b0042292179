import { z } from 'zod';
import { elasticsearchConfigSchema } from '../elastic/config';
import { collectorConfigSchema } from '../collectors/config';
import { inventoryConfigSchema } from '../fleet/config';
import { rulesConfigSchema } from '../rules/config';
import { reportsConfigSchema } from '../reports/config';
import { smtpConfigSchema } from '../core';
import { kibanaConfigSchema } from '../dashboards/config';
import { bastionConfigSchema } from '../bastion/config';

/** auditkit.yml: one section per unit; each unit owns its schema. */
export const configSchema = z.strictObject({
  elasticsearch: elasticsearchConfigSchema.prefault({}),
  kibana: kibanaConfigSchema.prefault({}),
  collector: collectorConfigSchema.prefault({}),
  rules: rulesConfigSchema.prefault({}),
  reports: reportsConfigSchema.prefault({}),
  smtp: smtpConfigSchema.prefault({}),
  inventory: inventoryConfigSchema.prefault({}),
  bastion: bastionConfigSchema.prefault({}),
});

export type AuditkitConfig = z.output<typeof configSchema>;
