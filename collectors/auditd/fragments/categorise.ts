/**
 * Categorisation: event.kind/action/category/type and the direction of network
 * events, from the primary record's type and the syscall (aucoalesce's tables in
 * mappings.ts). The record type decides first; the syscall adds its categories and
 * supplies the action when the record type has none.
 */
import { archName, syscallName } from '../decode';
import { GENERIC_SYSCALL, RECORD_TYPES, SYSCALLS, type Normalization, type UserMapping } from '../mappings';
import { uniq, val, type AssembledEvent } from './event';

export interface Categorisation {
  readonly kind: 'event' | 'alert';
  readonly action: string;
  readonly category: readonly string[];
  readonly type: readonly string[];
  readonly direction: 'ingress' | 'egress' | undefined;
  /** How the record type maps users (user-mgmt, login, …; 'none': the process credentials). */
  readonly users: UserMapping;
  /** Of the SYSCALL record: the architecture and the syscall's name. */
  readonly arch: string | undefined;
  readonly syscall: string | undefined;
}

export function categorise(ev: AssembledEvent): Categorisation {
  const { syscall, primary, main } = ev;
  const arch = archName(syscall?.fields.get('arch')) ?? syscall?.enriched?.get('ARCH');
  const scName = syscall ? (syscall.enriched?.get('SYSCALL') ?? syscallName(arch, syscall.fields.get('syscall'))) : undefined;
  const scNorm: Normalization | undefined = syscall ? (scName !== undefined ? SYSCALLS[scName] : undefined) ?? GENERIC_SYSCALL : undefined;
  const recNorm: Normalization | undefined = primary ? RECORD_TYPES[primary.type] : undefined;
  let action: string | undefined;
  const category: string[] = [];
  const etype: string[] = [];
  if (recNorm) {
    action = recNorm.action;
    category.push(...recNorm.category);
    etype.push(...recNorm.type);
    if (primary?.type === 'AVC') action = val(primary, 'apparmor') !== undefined ? 'violated-apparmor-policy' : 'violated-selinux-policy';
  }
  if (scNorm) {
    if (action === undefined || action === '') action = scNorm.action;
    category.push(...scNorm.category);
    etype.push(...scNorm.type);
  }
  if (action === undefined || action === '') action = main.type.toLowerCase();
  return {
    kind: recNorm?.kind ?? 'event',
    action,
    category: uniq(category),
    type: uniq(etype),
    direction: recNorm?.direction ?? scNorm?.direction,
    users: recNorm?.users ?? 'none',
    arch,
    syscall: scName,
  };
}
