/**
 * Value decoders: architectures, syscall names, errno names, SOCKADDR, PROCTITLE.
 * Pure functions; none throws (bad input gives undefined).
 */
import { own } from '../../core';
import { AARCH64_SYSCALLS, ERRNO_NAMES, I386_SYSCALLS, X86_64_SYSCALLS } from './syscalls-table';
import { hexToBuffer, looksHex } from './record';

/** AUDIT_ARCH_* values (linux/audit.h) -> names as auditd prints them. */
const ARCHES: Readonly<Record<string, string>> = {
  c000003e: 'x86_64',
  '40000003': 'i386',
  c00000b7: 'aarch64',
  '40000028': 'arm',
  '80000015': 'ppc64',
  c0000015: 'ppc64le',
  '80000016': 's390x',
  c00000f3: 'riscv64',
};

export function archName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const k = raw.startsWith('0x') ? raw.slice(2).toLowerCase() : raw.toLowerCase();
  return own(ARCHES, k);
}

/** Syscall number -> name for the record's arch (x86_64, aarch64, i386; others fall back to the number). */
export function syscallName(arch: string | undefined, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) return raw;
  const table = arch === 'aarch64' ? AARCH64_SYSCALLS : arch === 'i386' ? I386_SYSCALLS : arch === 'x86_64' || arch === undefined ? X86_64_SYSCALLS : undefined;
  const name = table?.[n];
  return name !== undefined && name !== '' ? name : raw;
}

/** `exit=-13` -> `EACCES`; non-negative -> the number as text. */
export function exitName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) return raw;
  if (n < 0) {
    const e = ERRNO_NAMES[-n];
    return e !== undefined && e !== '' ? e : raw;
  }
  return raw;
}

export interface SockAddr {
  readonly family: string;
  readonly ip?: string;
  readonly port?: number;
  readonly path?: string;
}

function ipv6(b: Buffer, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(off + i * 2).toString(16));
  // IPv4-mapped
  if (parts.slice(0, 5).every((p) => p === '0') && parts[5] === 'ffff') {
    return `${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  // compress the longest run of zeros
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

/**
 * Decode a SOCKADDR `saddr` (hex of a struct sockaddr). The family is in host
 * byte order (little endian on x86_64/aarch64; big endian archs are detected
 * when the first byte is 0 and the second a known family), ports in network order.
 */
export function decodeSockaddr(raw: string | undefined): SockAddr | undefined {
  if (raw === undefined || !looksHex(raw) || raw.length < 4) return undefined;
  const b = hexToBuffer(raw);
  let fam = b.readUInt16LE(0);
  if (fam > 0xff && b[0] === 0) fam = b.readUInt16BE(0);
  switch (fam) {
    case 1: {
      // AF_UNIX: NUL-terminated path; abstract sockets start with NUL
      let p = b.subarray(2);
      const abstract = p[0] === 0 && p.length > 1;
      if (abstract) p = p.subarray(1);
      const nul = p.indexOf(0);
      const path = (abstract ? '@' : '') + p.subarray(0, nul < 0 ? p.length : nul).toString('utf8');
      return { family: 'unix', path };
    }
    case 2:
      if (b.length < 8) return { family: 'ipv4' };
      return { family: 'ipv4', port: b.readUInt16BE(2), ip: `${b[4]}.${b[5]}.${b[6]}.${b[7]}` };
    case 10:
      if (b.length < 24) return { family: 'ipv6' };
      return { family: 'ipv6', port: b.readUInt16BE(2), ip: ipv6(b, 8) };
    case 16:
      return { family: 'netlink' };
    case 17:
      return { family: 'packet' };
    default:
      return { family: String(fam) };
  }
}

/** PROCTITLE: hex of argv joined by NUL (kernel truncates at 128 bytes). */
export function decodeProctitle(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.length >= 2 && raw.charCodeAt(0) === 34) return [raw.slice(1, -1)];
  // The kernel writes proctitle either quoted or as hex; accept lower-case hex too (seen in the wild, laurel decodes it).
  if (raw.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(raw)) return [raw];
  const parts = hexToBuffer(raw).toString('utf8').split('\u0000');
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
