import { AuditkitError, ExitCode } from '../../core';
import {
  applySetup, checkConnection, createApiKey, describeCapabilities, detectCapabilities, diffSetup, explainEsError, KEY_ROLES, planSetup, roleDescriptors,
  type KeyRole,
} from '../../elastic';
import type { AuditkitCommand, CliContext } from '../context';
import { setupKibanaDashboards } from './dashboards';

async function setupElasticsearch(ctx: CliContext, dryRun: boolean): Promise<number> {
  const { client, target, config } = await ctx.elasticsearch();
  const url = target.urls[0] ?? '';
  await checkConnection(client, url);
  let caps;
  try {
    caps = await detectCapabilities(client);
  } catch (err) {
    throw explainEsError(err, url);
  }
  const plan = planSetup(config.elasticsearch, caps);
  if (!ctx.out.json) {
    ctx.out.line(`Cluster ${url}`);
    for (const l of describeCapabilities(caps)) ctx.out.line(`  ${l}`);
    ctx.out.line(`Mode: ${plan.mode === 'data_stream' ? 'data streams' : 'index mode (plain indices named like data streams)'}`);
    const byType = new Map<string, number>();
    for (const a of plan.adaptations) byType.set(`${a.from} → ${a.to}`, (byType.get(`${a.from} → ${a.to}`) ?? 0) + 1);
    for (const [k, n] of byType) ctx.out.line(`Adapted: ${k} (${n} field${n === 1 ? '' : 's'}; --verbose lists them)`);
    if (ctx.args.verbose) for (const a of plan.adaptations) ctx.out.line(`  ${a.field}: ${a.from} → ${a.to}`);
    for (const n of plan.notes) ctx.out.line(`Note: ${n}`);
  }
  if (dryRun) {
    const diff = await diffSetup(client, plan).catch((err: unknown) => {
      throw explainEsError(err, url);
    });
    const requests = diff.filter((d) => d.action === 'created' || d.action === 'updated').map((d) => ({ action: d.action, ...d.obj.request }));
    if (ctx.out.json) ctx.out.printJson({ dry_run: true, mode: plan.mode, capabilities: caps, adaptations: plan.adaptations, notes: plan.notes, requests, objects: diff.map((d) => ({ name: d.obj.name, kind: d.obj.kind, action: d.action })) });
    else {
      ctx.out.line(`Dry run: ${requests.length} request${requests.length === 1 ? '' : 's'} would be sent`);
      for (const r of requests) {
        const qs = r.querystring ? `?${new URLSearchParams(r.querystring as Record<string, string>).toString()}` : '';
        ctx.out.line(`${r.method} ${r.path}${qs}`);
        ctx.out.line(JSON.stringify(r.body, null, 2));
      }
      for (const d of diff.filter((x) => x.action === 'unchanged' || x.action === 'kept')) ctx.out.line(`${d.action.padEnd(9)} ${d.obj.name}`);
    }
    return ExitCode.Ok;
  }
  const result = await applySetup(client, plan, (name, res) => {
    if (!ctx.out.json) ctx.out.line(`${res.padEnd(9)} ${name}`);
  }).catch((err: unknown) => {
    throw explainEsError(err, url);
  });
  if (ctx.out.json) ctx.out.printJson({ mode: plan.mode, capabilities: caps, adaptations: plan.adaptations, notes: plan.notes, objects: result.results });
  else {
    const changed = result.results.filter((r) => r.result === 'created' || r.result === 'updated').length;
    ctx.out.line(changed === 0 ? 'Nothing changed.' : `${changed} object${changed === 1 ? '' : 's'} written.`);
  }
  return ExitCode.Ok;
}

export const setupCommand: AuditkitCommand = {
  command: 'setup [target]',
  describe: 'Provision Elasticsearch (templates, mappings) and Kibana (dashboards); api-key makes least-privilege keys',
  builder: (y) =>
    y
      .positional('target', { choices: ['elasticsearch', 'kibana', 'all', 'api-key'] as const, default: 'all' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the exact requests without sending them' })
      .option('role', { choices: KEY_ROLES, describe: 'with api-key: collector (append only), reader, triage (read and ack/close alerts only), admin' })
      .option('name', { type: 'string', describe: 'with api-key: the key name' })
      .option('expiration', { type: 'string', describe: 'with api-key: e.g. 90d' })
      .option('print-role', { type: 'boolean', default: false, describe: 'with api-key: print the role descriptor (for roles.yml or a custom role) instead of creating a key' })
      .option('space', { type: 'string', describe: 'with kibana: the Kibana space' }),
  async run(ctx, argv) {
    const target = argv['target'] as string;
    const dryRun = Boolean(argv['dry-run']);
    if (target === 'api-key') {
      const role = argv['role'] as KeyRole | undefined;
      if (!role) throw new AuditkitError('AK_USAGE', 'setup api-key needs --role collector|reader|triage|admin', { exitCode: ExitCode.Usage });
      if (argv['print-role']) {
        ctx.out.printJson(roleDescriptors(role));
        return ExitCode.Ok;
      }
      const { client, target: t } = await ctx.elasticsearch();
      const key = await createApiKey(client, { role, ...(argv['name'] ? { name: argv['name'] as string } : {}), ...(argv['expiration'] ? { expiration: argv['expiration'] as string } : {}) }).catch((err: unknown) => {
        throw err instanceof AuditkitError ? err : explainEsError(err, t.urls[0] ?? '');
      });
      if (ctx.out.json) ctx.out.printJson({ id: key.id, name: key.name, role: key.role, api_key: key.encoded });
      else {
        ctx.out.line(`Created API key ${key.name} (id ${key.id}, role ${key.role}). It is shown only now:`);
        ctx.out.line(key.encoded);
        ctx.out.line('Put it in elasticsearch.api_key of the host\'s auditkit.yml (mode 600).');
      }
      return ExitCode.Ok;
    }
    let code: number = ExitCode.Ok;
    if (target === 'elasticsearch' || target === 'all') code = Math.max(code, await setupElasticsearch(ctx, dryRun));
    if (target === 'kibana' || target === 'all') code = Math.max(code, await setupKibana(ctx, argv, dryRun));
    return code;
  },
};

/** Kibana: the kit's dashboards (dashboards/). `setup all` skips Kibana when none is configured. */
async function setupKibana(ctx: CliContext, argv: Readonly<Record<string, unknown>>, dryRun: boolean): Promise<number> {
  const { value } = await ctx.config();
  if (!value.kibana.url) {
    if (argv['target'] === 'kibana') {
      throw new AuditkitError('AK_KIBANA_NO_URL', 'no Kibana configured: set kibana.url in auditkit.yml (or AUDITKIT_KIBANA_URL); `auditkit dashboards export --out FILE.ndjson` writes the dashboards for a manual import', { exitCode: ExitCode.Config });
    }
    if (!ctx.out.json) ctx.out.line('Kibana: not configured (kibana.url); skipped');
    return ExitCode.Ok;
  }
  return setupKibanaDashboards(ctx, argv, dryRun);
}
