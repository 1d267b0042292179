import { AuditkitError } from '../core';
import { ecsField, kitField } from '../schema';

/** Lens column `dataType` of a field, from its ECS or kit definition (never guessed from the name). */
export type LensDataType = 'string' | 'number' | 'date' | 'ip' | 'boolean';

export function schemaFieldType(field: string): string | undefined {
  if (field.startsWith('auditkit.')) return kitField(field)?.type;
  return ecsField(field)?.type;
}

export function lensDataType(field: string): LensDataType {
  const t = schemaFieldType(field);
  if (t === undefined) throw new AuditkitError('AK_INTERNAL', `dashboard field ${field} is neither an ECS field nor a declared kit field`);
  switch (t) {
    case 'keyword': case 'wildcard': case 'constant_keyword': case 'text': case 'match_only_text': case 'version':
      return 'string';
    case 'long': case 'integer': case 'short': case 'byte': case 'float': case 'double': case 'half_float': case 'scaled_float': case 'unsigned_long':
      return 'number';
    case 'date': case 'date_nanos':
      return 'date';
    case 'ip':
      return 'ip';
    case 'boolean':
      return 'boolean';
    default:
      throw new AuditkitError('AK_INTERNAL', `dashboard field ${field} has type ${t}, which no panel can use`);
  }
}

/** What a panel needs of a field; checked against the real mappings in the tests. */
export type FieldNeed = 'aggregatable' | 'numeric' | 'numeric_or_date' | 'searchable' | 'exists';

export interface FieldUse {
  readonly field: string;
  readonly need: FieldNeed;
  /** The panel operation that needs it, for messages. */
  readonly op: string;
}
