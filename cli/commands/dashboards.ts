import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AuditkitError, ExitCode } from '../../core';
import {
  buildKitExport, KibanaClient, kibanaClientOptions, parseNdjson, provisionKibana, spacePrefix, SPACE_ID, TARGET_KIBANA,
  type KitExportOptions, type ProvisionReport,
} from '../../dashboards';
import { portalBaseUrl } from '../../bastion';
import type { AuditkitConfig } from '../config-schema';
import type { AuditkitCommand, CliContext } from '../context';

/** The space: --space, else kibana.space (default "default"). */
export async function resolveSpace(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<string> {
  const flag = argv['space'];
  if (typeof flag === 'string' && flag !== '') {
    if (!SPACE_ID.test(flag)) throw new AuditkitError('AK_USAGE', `--space ${JSON.stringify(flag)} is not a Kibana space id (lower-case letters, digits, _ and -)`, { exitCode: ExitCode.Usage });
    return flag;
  }
  return (await ctx.config()).value.kibana.space;
}

function printReport(ctx: CliContext, r: ProvisionReport): void {
  if (ctx.out.json) {
    ctx.out.printJson({ kibana: { url: r.kibanaUrl, version: r.kibanaVersion, status: r.kibanaLevel }, space: r.space, authored_for: r.authoredFor, imported: r.imported, verified: r.verified, objects: r.objects });
    return;
  }
  for (const o of r.objects) ctx.out.line(`imported  ${o.type.padEnd(13)} ${o.id}${o.title ? `  ${o.title}` : ''}`);
  ctx.out.line(`${r.imported} objects imported into space "${r.space}" of Kibana ${r.kibanaVersion}; read back: ${r.verified} present, no missing references.`);
}

/** Import NDJSON into the configured Kibana (shared by `setup kibana` and `dashboards import`). */
export async function importIntoKibana(ctx: CliContext, ndjson: string, objects: ReadonlyArray<Record<string, unknown>>, space: string, origin: string): Promise<number> {
  const { value } = await ctx.config();
  const client = new KibanaClient(kibanaClientOptions(value.kibana));
  const report = await provisionKibana(client, ndjson, objects, {
    space,
    origin,
    onStep: (l) => {
      if (!ctx.out.json) ctx.out.line(l);
    },
  });
  printReport(ctx, report);
  return ExitCode.Ok;
}

/** The kit's export as this configuration shapes it: the bastion portal's replay links, when it has a portal. */
function kitOptions(cfg: AuditkitConfig): KitExportOptions {
  const portal = portalBaseUrl(cfg.bastion.web);
  return portal ? { replayPortal: portal } : {};
}

/** `setup kibana`: the kit's own dashboards. */
export async function setupKibanaDashboards(ctx: CliContext, argv: Readonly<Record<string, unknown>>, dryRun: boolean): Promise<number> {
  const space = await resolveSpace(ctx, argv);
  const kit = buildKitExport(kitOptions((await ctx.config()).value));
  if (dryRun) {
    const { value } = await ctx.config();
    const base = (value.kibana.url ?? '').replace(/\/+$/, '');
    if (ctx.out.json) {
      ctx.out.printJson({
        dry_run: true,
        authored_for: TARGET_KIBANA,
        space,
        requests: [
          { method: 'GET', url: `${base}/api/status` },
          ...(space === 'default' ? [] : [{ method: 'GET', url: `${base}/api/spaces/space/${space}` }]),
          { method: 'POST', url: `${base}${spacePrefix(space)}/api/saved_objects/_import?overwrite=true`, content_type: 'multipart/form-data (file=NDJSON)', objects: kit.objects.map((o) => ({ type: o.type, id: o.id })) },
          { method: 'POST', url: `${base}${spacePrefix(space)}/api/saved_objects/_export`, body: { includeReferencesDeep: true } },
        ],
      });
    } else {
      ctx.out.line(`Dry run: Kibana objects authored for ${TARGET_KIBANA} and later, space "${space}"`);
      ctx.out.line(`GET ${base}/api/status   (refuses Kibana older than ${TARGET_KIBANA})`);
      if (space !== 'default') ctx.out.line(`GET ${base}/api/spaces/space/${space}`);
      ctx.out.line(`POST ${base}${spacePrefix(space)}/api/saved_objects/_import?overwrite=true   multipart file with ${kit.objects.length} objects:`);
      for (const o of kit.objects) ctx.out.line(`  ${o.type.padEnd(13)} ${o.id}  ${String(o.attributes['title'])}`);
      ctx.out.line(`POST ${base}${spacePrefix(space)}/api/saved_objects/_export   (read back, includeReferencesDeep)`);
      ctx.out.line('`auditkit dashboards export --out FILE.ndjson` writes the same objects for a manual import.');
    }
    return ExitCode.Ok;
  }
  return importIntoKibana(ctx, kit.ndjson, kit.objects as unknown as ReadonlyArray<Record<string, unknown>>, space, 'the kit');
}

async function exportCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const kit = buildKitExport(kitOptions((await ctx.config()).value));
  const out = argv['out'] as string | undefined;
  if (!out || out === '-') {
    process.stdout.write(kit.ndjson);
    return ExitCode.Ok;
  }
  const file = path.resolve(out);
  try {
    await fsp.writeFile(file, kit.ndjson);
  } catch (err) {
    throw new AuditkitError('AK_DASHBOARDS_WRITE', `cannot write the export: ${(err as Error).message}`, { location: { file }, exitCode: ExitCode.Config, cause: err });
  }
  if (ctx.out.json) ctx.out.printJson({ file, objects: kit.objects.length, authored_for: TARGET_KIBANA });
  else {
    ctx.out.line(`Wrote ${kit.objects.length} saved objects (data views, saved searches, dashboards) to ${file}`);
    ctx.out.line(`Import it in Kibana ${TARGET_KIBANA} or later: Stack Management → Saved objects → Import, or \`auditkit dashboards import ${out}\`.`);
  }
  return ExitCode.Ok;
}

async function importCmd(ctx: CliContext, argv: Readonly<Record<string, unknown>>): Promise<number> {
  const file = argv['file'] as string | undefined;
  if (!file) throw new AuditkitError('AK_USAGE', 'dashboards import needs FILE (an NDJSON export)', { exitCode: ExitCode.Usage });
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fsp.readFile(abs, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AuditkitError('AK_DASHBOARDS_READ', e.code === 'ENOENT' ? 'file not found; `auditkit dashboards export --out FILE.ndjson` makes one' : `cannot read: ${e.message}`, { location: { file: abs }, exitCode: ExitCode.Config, cause: err });
  }
  const { objects, problems } = parseNdjson(text);
  if (problems.length > 0) {
    throw new AuditkitError('AK_DASHBOARDS_FILE', `${abs} is not a saved-objects NDJSON export:\n${problems.map((p) => `  ${abs}:${p.line}: ${p.message}`).join('\n')}`, { exitCode: ExitCode.Config });
  }
  if (objects.length === 0) throw new AuditkitError('AK_DASHBOARDS_FILE', 'the file holds no saved objects', { location: { file: abs }, exitCode: ExitCode.Config });
  const { value } = await ctx.config();
  if (!value.kibana.url) throw new AuditkitError('AK_KIBANA_NO_URL', 'no Kibana configured: set kibana.url in auditkit.yml (or AUDITKIT_KIBANA_URL)', { exitCode: ExitCode.Config });
  const space = await resolveSpace(ctx, argv);
  return importIntoKibana(ctx, text, objects, space, abs);
}

export const dashboardsCommand: AuditkitCommand = {
  command: 'dashboards <action> [file]',
  describe: `Kibana dashboards: export [--out FILE.ndjson] | import FILE [--space NAME] (Kibana ${TARGET_KIBANA}+)`,
  builder: (y) =>
    y
      .positional('action', { choices: ['export', 'import'] as const, describe: 'export: write the kit\'s saved objects as NDJSON; import: send an NDJSON export to Kibana' })
      .positional('file', { type: 'string', describe: 'with import: the NDJSON file' })
      .option('out', { type: 'string', describe: 'with export: the file to write (default: stdout)' })
      .option('space', { type: 'string', describe: 'with import: the Kibana space (default: kibana.space, else "default")' }),
  async run(ctx, argv) {
    const action = argv['action'] as string;
    if (action === 'export') return exportCmd(ctx, argv);
    return importCmd(ctx, argv);
  },
};
