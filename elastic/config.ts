import { z } from 'zod';
import { namespaceProblem } from '../schema';

const duration = z.string().regex(/^\d+[smhd]$/, 'expected a duration like 30d, 12h, 15m');

/** The `elasticsearch:` section of auditkit.yml. */
export const elasticsearchConfigSchema = z
  .strictObject({
    url: z
      .union([z.url(), z.array(z.url()).min(1)])
      .optional()
      .describe(
        'Elasticsearch URL, or a list of the cluster\'s node URLs: requests go round-robin to the nodes that answer and move past one that is down (no sniffing: the list is used as given). Unset: the local dev node started by `auditkit dev es start`.',
      ),
    api_key: z.string().min(1).optional().describe('API key (base64 "id:key" as Elasticsearch returns it in `encoded`).'),
    username: z.string().min(1).optional().describe('Basic auth user (prefer api_key).'),
    password: z.string().min(1).optional().describe('Basic auth password.'),
    ca_file: z.string().min(1).optional().describe('PEM CA certificate file to verify the cluster with.'),
    ca_fingerprint: z
      .string()
      .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'expected a SHA-256 fingerprint (64 hex digits, colons optional)')
      .optional()
      .describe('SHA-256 fingerprint of the CA certificate (as Elasticsearch prints at first start).'),
    tls_verify: z.boolean().default(true).describe('Verify TLS certificates. Turning this off is insecure and logged as a warning.'),
    request_timeout_ms: z.number().int().positive().default(30_000).describe('Per-request timeout.'),
    max_retries: z.number().int().min(0).default(3).describe('Retries of a failed request (connection errors, 5xx) by the client.'),
    namespace: z
      .string()
      .default('default')
      .refine((s) => namespaceProblem(s) === undefined, { message: 'invalid data stream namespace (lower case, no - \\ / * ? " < > | , # : or spaces)' })
      .describe('Data stream namespace: logs-auditkit.<dataset>-<namespace>.'),
    mode: z.enum(['auto', 'data_stream', 'index']).default('auto').describe('auto: data streams where the cluster supports them, else plain indices of the same names.'),
    retention: z
      .strictObject({
        commands: duration.default('365d').describe('Retention of shell commands.'),
        auditd: duration.default('180d'),
        alerts: duration.default('730d'),
        agent: duration.default('30d'),
        deadletter: duration.default('90d'),
        sessions: duration.default('365d'),
        fim: duration.default('365d').describe('Retention of file integrity events.'),
        inventory: duration.default('90d').describe('Retention of inventory snapshots and changes (snapshots repeat every scan).'),
        posture: duration.default('365d').describe('Retention of baseline check results (a year of score trend).'),
        tasks: duration.default('180d').describe('Retention of bastion batch task results (as long as the session recordings).'),
      })
      .prefault({})
      .describe('Retention per dataset (data stream lifecycle), where the cluster supports lifecycle.'),
    shards: z.number().int().positive().default(1).describe('Primary shards per index.'),
    replicas: z.number().int().min(0).optional().describe('Replicas per primary shard; unset: 1 where setup finds two or more data nodes, else 0.'),
  })
  .superRefine((v, ctx) => {
    if (v.api_key && (v.username || v.password)) ctx.addIssue({ code: 'custom', message: 'set either api_key or username/password, not both', path: ['api_key'] });
    if ((v.username && !v.password) || (!v.username && v.password)) ctx.addIssue({ code: 'custom', message: 'username and password go together', path: [v.username ? 'password' : 'username'] });
  });

export type ElasticsearchConfig = z.output<typeof elasticsearchConfigSchema>;
