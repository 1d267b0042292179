export * from './types';
export * from './parsers';
export * from './config';
