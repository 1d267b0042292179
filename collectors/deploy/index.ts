export * from './config';
export * from './inventory';
export * from './ssh';
export * from './package';
export * from './install';
export * from './deploy';
export * from './progress';
