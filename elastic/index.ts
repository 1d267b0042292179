export * from './dev-node';
export * from './config';
export * from './client';
export * from './capabilities';
export * from './setup';
export * from './api-key';
