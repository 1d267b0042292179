/**
 * The Kibana version the kit's saved objects are authored for, and the gate that
 * refuses Kibanas they cannot go into.
 *
 * Saved objects import into the same version, a newer minor or the next major,
 * never into an older Kibana (Kibana docs, "Import objects API": exported objects
 * are not backwards compatible). So the objects are written in the shape of the
 * OLDEST Kibana the kit supports, stamped with that version's migration markers,
 * and every newer Kibana migrates them up on import.
 *
 * Why 8.10.0: by-value Lens panels with the `formBased` datasource (8.6+), the
 * `coreMigrationVersion`/`typeMigrationVersion` stamps (8.8+), and the dashboard
 * type's 8.9.0 migration are all present; the Lens state the kit writes follows a
 * real 8.10 export (elastic/integrations "[Logs System] Sudo commands": core 8.8.0,
 * dashboard 8.9.0, panels 8.10.2). The `links` panel type (8.11) is not used, so
 * 8.10 really is enough.
 */
import { AuditkitError } from '../core';

export const TARGET_KIBANA = '8.10.0';

/** The next major is the last one Kibana promises to import into. */
export const MAX_KIBANA_MAJOR = 9;

export const CORE_MIGRATION_VERSION = '8.8.0';

/** Latest migration of each type at or below TARGET_KIBANA (what an 8.10 export carries). */
export const TYPE_MIGRATION_VERSION = {
  'index-pattern': '8.0.0',
  search: '8.0.0',
  dashboard: '8.9.0',
} as const;

/** `version` of each dashboard panel: the embeddable migrations start from here. */
export const PANEL_VERSION = TARGET_KIBANA;

export type SavedObjectType = keyof typeof TYPE_MIGRATION_VERSION;

export interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export function parseVersion(v: string): ParsedVersion | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new AuditkitError('AK_INTERNAL', `cannot compare versions ${a} and ${b}`);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/** Why a Kibana of this version cannot take the kit's objects, or undefined when it can. */
export function versionProblem(kibanaVersion: string): string | undefined {
  const v = parseVersion(kibanaVersion);
  if (!v) return `Kibana reported version ${JSON.stringify(kibanaVersion)}, which is not a version number`;
  if (compareVersions(kibanaVersion, TARGET_KIBANA) < 0) {
    return `Kibana ${kibanaVersion} is older than ${TARGET_KIBANA}, the oldest version the kit's dashboards are written for (saved objects never import into an older Kibana). Upgrade Kibana to ${TARGET_KIBANA} or later`;
  }
  if (v.major > MAX_KIBANA_MAJOR) {
    return `Kibana ${kibanaVersion} is more than one major newer than ${TARGET_KIBANA}, which Kibana does not promise to import. Use an auditkit release made for Kibana ${v.major}`;
  }
  return undefined;
}
