import { z } from 'zod';

/** The `collector:` section of auditkit.yml (the host agent). Owned by collectors/. */
export const collectorConfigSchema = z
  .strictObject({
    host_name: z.string().min(1).optional().describe('Host name to report; default: os.hostname().'),
    state_dir: z.string().default('/var/lib/auditkit').describe('Checkpoints, spool and dead letters.'),
  })
  .loose();

export type CollectorConfig = z.output<typeof collectorConfigSchema>;
