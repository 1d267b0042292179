export { cachedDistribution, type DevNode, devNodeStart, devNodeStatus, devNodeStop, startDevNode } from './dev-node';
export { type ElasticsearchConfig, elasticsearchConfigSchema } from './config';
export { checkConnection, Client, createClient, explainEsError, type ResolvedTarget, resolveTarget } from './client';
export { createShippingClient } from './transport-client';
export { type Capabilities, CORE_FIELD_TYPES, describeCapabilities, detectCapabilities } from './capabilities';
export { applySetup, diffSetup, packageComponentName, planSetup, STATE_TEMPLATES } from './setup';
export { createApiKey, DETECT_STATE_INDEX, KEY_ROLES, type KeyRole, roleDescriptors } from './api-key';
export { bulkLines, bulkLinesOfJson, writeBulk, type BulkClient, type BulkHandler, type BulkItem, type BulkItemResult, type BulkWriteOptions } from './bulk';
