import { buildDashboard, dataViewObject, savedSearchObject, toNdjson, urlFieldFormat, type DataViewSpec, type PanelCheck, type SavedObject } from './saved-object';
import { DASHBOARDS, DATA_VIEWS, SEARCHES } from './specs';

export interface KitExport {
  /** Data views, then saved searches, then dashboards. */
  readonly objects: readonly SavedObject[];
  /** Every panel with the fields it uses and the ES request it stands for. */
  readonly checks: readonly PanelCheck[];
  readonly ndjson: string;
}

export interface KitExportOptions {
  /**
   * Base URL of the bastion's web portal (bastion.web.public_url, or derived from web.listen):
   * the bastion session id of the sessions and commands data views then links to
   * `<portal>/replay/<session id>`. Unset: no link (the kit has no portal to point at).
   */
  readonly replayPortal?: string;
}

/** The field of the bastion session id, in the sessions and commands datasets. */
export const BASTION_SESSION_FIELD = 'auditkit.bastion.session_id';

/** The url template a portal base gives the session id: the portal's replay page. */
export function replayUrlTemplate(portal: string): string {
  return `${portal.replace(/\/+$/, '')}/replay/{{value}}`;
}

/** Everything `auditkit dashboards export` writes and `setup kibana` imports. Pure and deterministic. */
export function buildKitExport(opts: KitExportOptions = {}): KitExport {
  const objects: SavedObject[] = [];
  const checks: PanelCheck[] = [];
  const linked = new Set<DataViewSpec>([DATA_VIEWS.sessions, DATA_VIEWS.commands]);
  for (const dv of Object.values(DATA_VIEWS)) {
    const withLink = opts.replayPortal && linked.has(dv) ? { ...dv, fieldFormats: { [BASTION_SESSION_FIELD]: urlFieldFormat(replayUrlTemplate(opts.replayPortal)) } } : dv;
    objects.push(dataViewObject(withLink));
  }
  for (const s of Object.values(SEARCHES)) objects.push(savedSearchObject(s));
  for (const d of DASHBOARDS) {
    const built = buildDashboard(d);
    objects.push(built.object);
    checks.push(...built.checks);
  }
  return { objects, checks, ndjson: toNdjson(objects) };
}
