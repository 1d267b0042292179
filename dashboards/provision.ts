/**
 * `auditkit setup kibana` and `auditkit dashboards import`: check the Kibana,
 * import, read back.
 *
 * Order and why:
 * 1. GET /api/status: Kibana must be available and its version must take the
 *    objects (never older than what they were authored for: saved objects are
 *    not backwards compatible). Objects from a file are checked one by one
 *    against the Kibana's version, so a file exported from a newer Kibana is
 *    refused before anything is written.
 * 2. The space must exist (importing into a missing space 404s half-way).
 * 3. One multipart import with overwrite=true: ids are fixed, so re-running
 *    replaces the kit's objects and changes nothing else (safe to repeat).
 * 4. Read back through the export API with references followed: nothing may be
 *    missing, and every object must be there.
 */
import { AuditkitError, ExitCode } from '../core';
import { spacePrefix, type KibanaClient, type KibanaStatus } from './kibana-client';
import { compareVersions, parseVersion, TARGET_KIBANA, versionProblem } from './version';

export interface ObjectRef {
  readonly type: string;
  readonly id: string;
  readonly title?: string;
}

export interface ProvisionReport {
  readonly kibanaUrl: string;
  readonly kibanaVersion: string;
  readonly kibanaLevel: string;
  readonly space: string;
  readonly authoredFor: string;
  readonly imported: number;
  readonly objects: readonly ObjectRef[];
  readonly verified: number;
}

/** Refs of parsed saved objects, with titles for messages. */
export function objectRefs(objects: ReadonlyArray<Record<string, unknown>>): ObjectRef[] {
  return objects.map((o) => {
    const attrs = o['attributes'] as Record<string, unknown> | undefined;
    const title = typeof attrs?.['title'] === 'string' ? (attrs['title'] as string) : undefined;
    return { type: String(o['type']), id: String(o['id']), ...(title ? { title } : {}) };
  });
}

/**
 * Objects newer than a Kibana: their core/type migration stamps or their panels'
 * versions are above its version. Type stamps of 10.x and above are model
 * versions (Kibana ≥ 8.10 numbers them that way), not Kibana versions, and are
 * left to Kibana to judge.
 */
export function objectsNewerThan(objects: ReadonlyArray<Record<string, unknown>>, kibanaVersion: string): string[] {
  const problems: string[] = [];
  const newer = (v: unknown): v is string => typeof v === 'string' && parseVersion(v) !== undefined && compareVersions(v, kibanaVersion) > 0;
  for (const o of objects) {
    const name = `${String(o['type'])} ${String(o['id'])}`;
    if (newer(o['coreMigrationVersion'])) problems.push(`${name}: coreMigrationVersion ${o['coreMigrationVersion'] as string}`);
    const tmv = o['typeMigrationVersion'];
    if (newer(tmv) && (parseVersion(tmv)?.major ?? 0) < 10) problems.push(`${name}: typeMigrationVersion ${tmv}`);
    const mv = o['migrationVersion'];
    if (typeof mv === 'object' && mv !== null) {
      for (const [k, v] of Object.entries(mv as Record<string, unknown>)) if (newer(v) && (parseVersion(v)?.major ?? 0) < 10) problems.push(`${name}: migrationVersion.${k} ${v}`);
    }
    const attrs = o['attributes'] as Record<string, unknown> | undefined;
    const pj = attrs?.['panelsJSON'];
    if (typeof pj === 'string') {
      try {
        const panels = JSON.parse(pj) as Array<{ version?: unknown; panelIndex?: unknown }>;
        for (const p of panels) if (newer(p.version)) problems.push(`${name}: panel ${String(p.panelIndex)} version ${p.version}`);
      } catch {
        problems.push(`${name}: panelsJSON is not JSON`);
      }
    }
  }
  return problems;
}

export interface ProvisionOptions {
  readonly space: string;
  /** Where the objects came from, for messages (a file path, or "the kit"). */
  readonly origin: string;
  readonly onStep?: (line: string) => void;
}

async function readyStatus(client: KibanaClient): Promise<KibanaStatus> {
  const st = await client.status();
  if (st.level !== 'available' && st.level !== 'degraded') {
    throw new AuditkitError('AK_KIBANA_NOT_READY', `Kibana ${st.version} at ${client.url} is ${st.level}${st.summary ? ` (${st.summary})` : ''}. Wait until it is available (GET /api/status) and run again`, { exitCode: ExitCode.Unavailable });
  }
  return st;
}

/** Import NDJSON into a Kibana and prove it is all there. Throws AuditkitError with the exit code to use. */
export async function provisionKibana(client: KibanaClient, ndjson: string, objects: ReadonlyArray<Record<string, unknown>>, opts: ProvisionOptions): Promise<ProvisionReport> {
  const step = opts.onStep ?? (() => undefined);
  const st = await readyStatus(client);
  step(`Kibana ${st.version} at ${client.url} (${st.level})`);
  const vp = versionProblem(st.version);
  if (vp) throw new AuditkitError('AK_KIBANA_VERSION', vp, { exitCode: ExitCode.Unavailable });
  const newer = objectsNewerThan(objects, st.version);
  if (newer.length > 0) {
    throw new AuditkitError(
      'AK_KIBANA_VERSION',
      `${opts.origin} has ${newer.length} object${newer.length === 1 ? '' : 's'} newer than Kibana ${st.version}, which would refuse or mangle them (saved objects never import into an older Kibana):\n  ${newer.slice(0, 20).join('\n  ')}\nExport them from a Kibana of version ${st.version} or older, or use \`auditkit dashboards export\` (authored for ${TARGET_KIBANA})`,
      { exitCode: ExitCode.Unavailable },
    );
  }
  if (!(await client.spaceExists(opts.space))) {
    throw new AuditkitError('AK_KIBANA_SPACE', `Kibana at ${client.url} has no space "${opts.space}". Create it in Stack Management → Spaces (or POST /api/spaces/space), or pass another --space`, { exitCode: ExitCode.Config });
  }
  const refs = objectRefs(objects);
  step(`Importing ${refs.length} objects into space "${opts.space}" (POST ${spacePrefix(opts.space)}/api/saved_objects/_import?overwrite=true)`);
  const res = await client.importObjects(ndjson, { space: opts.space, overwrite: true });
  if (!res.success || res.errors.length > 0) {
    const lines = res.errors.map((e) => {
      const refsTxt = e.error.references?.length ? `: ${e.error.references.map((r) => `${r.type} ${r.id}`).join(', ')}` : '';
      return `${e.type} ${e.id}${e.title ? ` ("${e.title}")` : ''}: ${e.error.type}${e.error.message ? ` (${e.error.message})` : ''}${refsTxt}`;
    });
    throw new AuditkitError(
      'AK_KIBANA_IMPORT',
      `Kibana at ${client.url} imported ${res.successCount} of ${refs.length} objects from ${opts.origin}; ${res.errors.length} failed:\n  ${lines.join('\n  ')}`,
      { exitCode: ExitCode.Failure },
    );
  }
  step(`Imported ${res.successCount}; reading them back`);
  const back = await client.exportObjects(refs, opts.space);
  if (back.details.missingRefCount > 0 || back.details.missingReferences.length > 0) {
    throw new AuditkitError(
      'AK_KIBANA_MISSING_REFERENCES',
      `after import, Kibana at ${client.url} reports ${back.details.missingRefCount} missing reference${back.details.missingRefCount === 1 ? '' : 's'} in space "${opts.space}": ${back.details.missingReferences.map((r) => `${r.type} ${r.id}`).join(', ')}. Import the objects they point to (data views first), then run again`,
      { exitCode: ExitCode.Failure },
    );
  }
  const have = new Set(back.objects.map((o) => `${String(o['type'])}/${String(o['id'])}`));
  const absent = refs.filter((r) => !have.has(`${r.type}/${r.id}`));
  if (absent.length > 0) {
    throw new AuditkitError('AK_KIBANA_READBACK', `Kibana at ${client.url} reported success but does not have: ${absent.map((r) => `${r.type} ${r.id}`).join(', ')}`, { exitCode: ExitCode.Failure });
  }
  return { kibanaUrl: client.url, kibanaVersion: st.version, kibanaLevel: st.level, space: opts.space, authoredFor: TARGET_KIBANA, imported: res.successCount, objects: refs, verified: have.size };
}
