export { SPACE_ID } from './config';
export { compareVersions, CORE_MIGRATION_VERSION, PANEL_VERSION, TARGET_KIBANA, TYPE_MIGRATION_VERSION } from './version';
export { type FieldUse } from './fields';
export { type PanelCheck, parseNdjson } from './saved-object';
export { buildKitExport, type KitExportOptions } from './export';
export { KibanaClient, kibanaClientOptions, spacePrefix } from './kibana-client';
export { provisionKibana, type ProvisionReport } from './provision';
