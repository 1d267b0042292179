export * from './dev-node';
export * from './config';
export * from './client';
export { createShippingClient, type ShippingClient } from './transport-client';
export * from './capabilities';
export * from './setup';
export * from './api-key';
export { bulkLines, writeBulk, type BulkClient, type BulkHandler, type BulkItem, type BulkItemResult, type BulkWriteOptions, type BulkWriteResult } from './bulk';
