/** The options every command takes (declared to yargs in run.ts; here, apart from the command list, so the collector's entry does not reach every command). */
export const GLOBAL_OPTIONS = {
  config: { type: 'string', describe: 'auditkit.yml (default: ./auditkit.yml, then /etc/auditkit/auditkit.yml)', global: true },
  'es-url': { type: 'string', describe: 'Elasticsearch URL (overrides elasticsearch.url)', global: true },
  namespace: { type: 'string', describe: 'data stream namespace (default: default)', global: true },
  json: { type: 'boolean', default: false, describe: 'machine-readable output on stdout', global: true },
  verbose: { type: 'boolean', default: false, describe: 'debug logs on stderr', global: true },
} as const;
