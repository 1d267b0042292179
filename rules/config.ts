import { z } from 'zod';

/** The `rules:` section of auditkit.yml. Owned by rules/. */
export const rulesConfigSchema = z.strictObject({}).loose();
export type RulesConfig = z.output<typeof rulesConfigSchema>;
