export * from './streams';
export * from './ids';
export * from './ecs';
export * from './fields';
export * from './kit-fields';
export * from './mapping';
export * from './validate';
export * from './types';
export { SEVERITIES, SEVERITIES_DESC, SEVERITY_NUMBER, isSeverity, severitiesFrom, type Severity } from './severity';
