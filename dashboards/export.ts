import { buildDashboard, dataViewObject, savedSearchObject, toNdjson, type PanelCheck, type SavedObject } from './saved-object';
import { DASHBOARDS, DATA_VIEWS, SEARCHES } from './specs';

export interface KitExport {
  /** Data views, then saved searches, then dashboards. */
  readonly objects: readonly SavedObject[];
  /** Every panel with the fields it uses and the ES request it stands for. */
  readonly checks: readonly PanelCheck[];
  readonly ndjson: string;
}

/** Everything `auditkit dashboards export` writes and `setup kibana` imports. Pure and deterministic. */
export function buildKitExport(): KitExport {
  const objects: SavedObject[] = [];
  const checks: PanelCheck[] = [];
  for (const dv of Object.values(DATA_VIEWS)) objects.push(dataViewObject(dv));
  for (const s of Object.values(SEARCHES)) objects.push(savedSearchObject(s));
  for (const d of DASHBOARDS) {
    const built = buildDashboard(d);
    objects.push(built.object);
    checks.push(...built.checks);
  }
  return { objects, checks, ndjson: toNdjson(objects) };
}
