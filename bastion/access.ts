/**
 * The access model, pure: who may log in (password argon2id, public keys, TOTP,
 * lockout, source CIDR and time-window ACL, disabled and expiring accounts) and
 * where to (grants of a user or user group over inventory hosts or host groups,
 * with a system account and a validity window). No I/O here except the random
 * bytes of new salts and seeds; the store (state.ts) and the door (server.ts) call it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { argon2id, argon2Verify } from 'hash-wasm';
import * as OTPAuth from 'otpauth';
import { utils as sshUtils } from 'ssh2';
import { groupMembers, resolveHosts, type InventoryConfig, type ResolvedHost } from '../fleet';

export interface TotpState {
  /** Base32 seed. Secret: lives only in the admin-only state index and the mode-600 cache. */
  readonly secret: string;
  readonly enrolled_at: string;
}

export interface BastionUser {
  readonly name: string;
  readonly groups: readonly string[];
  /** argon2id, PHC string encoding ($argon2id$v=19$m=…,t=…,p=…$salt$hash). */
  readonly password_hash?: string;
  /** OpenSSH public key lines. */
  readonly public_keys: readonly string[];
  readonly totp?: TotpState;
  readonly disabled: boolean;
  /** ISO time after which the account cannot log in. */
  readonly expires?: string;
  /** Source CIDRs a login may come from; empty: anywhere. */
  readonly allow_from: readonly string[];
  /** Time windows (bastion local time) a login may start in, e.g. "mon-fri 08:00-18:00"; empty: any time. */
  readonly allow_times: readonly string[];
  readonly created: string;
  readonly updated: string;
}

export interface Grant {
  readonly id: string;
  /** Exactly one of user / user_group. */
  readonly user?: string;
  readonly user_group?: string;
  /** Exactly one of host / host_group (inventory names). */
  readonly host?: string;
  readonly host_group?: string;
  /** The system account on the target. */
  readonly account: string;
  readonly valid_from?: string;
  readonly valid_until?: string;
  readonly port_forwarding: boolean;
  readonly agent_forwarding: boolean;
  readonly sftp: boolean;
  readonly created: string;
}

export interface BastionState {
  readonly users: Readonly<Record<string, BastionUser>>;
  readonly grants: Readonly<Record<string, Grant>>;
}

export const EMPTY_STATE: BastionState = { users: {}, grants: {} };

// ---------------------------------------------------------------------------------------------
// Passwords: argon2id through hash-wasm (WASM: no native build on the bastion). Parameters are
// OWASP's first argon2id recommendation (19 MiB, 2 passes, 1 lane): ~60-120 ms here per verify.
const ARGON2 = { memorySize: 19_456, iterations: 2, parallelism: 1, hashLength: 32 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...ARGON2, outputType: 'encoded' });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!hash.startsWith('$argon2id$')) return false;
  try {
    return await argon2Verify({ password, hash });
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** The same work as a real verify, for unknown users and users without a password (timing does not tell). */
export async function dummyVerify(password: string): Promise<false> {
  dummyHash ??= hashPassword('auditkit-dummy-' + randomBytes(8).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}

export function passwordProblem(pw: string): string | undefined {
  if (pw.length < 12) return 'must be at least 12 characters';
  if (pw.length > 1024) return 'must be at most 1024 characters';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238, SHA-1, 6 digits, 30 s: what authenticator apps expect).
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function totpUri(user: string, secret: string, issuer = 'auditkit bastion'): string {
  return new OTPAuth.TOTP({ issuer, label: user, secret: OTPAuth.Secret.fromBase32(secret) }).toString();
}

export function totpCode(secret: string, timestamp: number): string {
  return OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret), timestamp });
}

/**
 * The time-step counter a code belongs to (within ±window steps of now), or
 * undefined. Callers refuse a counter at or below the last one used: a code
 * works once (RFC 6238 §5.2).
 */
export function verifyTotp(secret: string, token: string, now: number, window: number): number | undefined {
  const t = token.trim();
  if (!/^\d{6}$/.test(t)) return undefined;
  const base = Math.floor(now / 30_000);
  let hit: number | undefined;
  // Compare every candidate in constant time and do not stop early.
  for (let d = -window; d <= window; d++) {
    const c = totpCode(secret, (base + d) * 30_000);
    if (timingSafeEqual(Buffer.from(c), Buffer.from(t)) && hit === undefined) hit = base + d;
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------
// Public keys.
export function normalisePublicKey(line: string): { readonly type: string; readonly blob: Buffer } | string {
  const parsed = sshUtils.parseKey(line.trim());
  if (parsed instanceof Error) return `not an OpenSSH public key: ${parsed.message}`;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return 'not an OpenSSH public key';
  if (key.isPrivateKey()) return 'that is a PRIVATE key: give the .pub file';
  return { type: key.type, blob: key.getPublicSSH() };
}

/** The stored key line whose wire blob (it names its own type) equals the offered one. */
export function findPublicKey(user: BastionUser, blob: Buffer): string | undefined {
  for (const line of user.public_keys) {
    const k = normalisePublicKey(line);
    if (typeof k !== 'string' && k.blob.equals(blob)) return line;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lockout: failures per key (a user, a source address) in a sliding window; a lock lasts `lockMs`.
export class Lockout {
  private readonly failures = new Map<string, number[]>();
  private readonly locked = new Map<string, number>();
  constructor(private readonly opts: { readonly failures: number; readonly windowMs: number; readonly lockMs: number }) {}

  /** Milliseconds the key stays locked, or 0. */
  lockedFor(key: string, now: number): number {
    const until = this.locked.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.locked.delete(key);
      return 0;
    }
    return until - now;
  }

  /** Count a failure; true when it locked the key. */
  fail(key: string, now: number): boolean {
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < this.opts.windowMs);
    recent.push(now);
    if (recent.length >= this.opts.failures) {
      this.failures.delete(key);
      this.locked.set(key, now + this.opts.lockMs);
      return true;
    }
    this.failures.set(key, recent);
    return false;
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  /** Drop old entries (called now and then so a scan of addresses cannot grow the maps forever). */
  prune(now: number): void {
    for (const [k, ts] of this.failures) if (ts.every((t) => now - t >= this.opts.windowMs)) this.failures.delete(k);
    for (const [k, until] of this.locked) if (until <= now) this.locked.delete(k);
  }
}

// ---------------------------------------------------------------------------------------------
// Source CIDRs.
function ipBytes(ip: string): Buffer | undefined {
  let s = ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped) s = mapped[1] as string;
  const v = isIP(s);
  if (v === 4) return Buffer.from(s.split('.').map(Number));
  if (v !== 6) return undefined;
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16) || 0, i * 2));
  return out;
}

export function cidrProblem(cidr: string): string | undefined {
  const [addr, bits] = cidr.split('/');
  const b = addr ? ipBytes(addr) : undefined;
  if (!b) return `${JSON.stringify(cidr)} is not an address or CIDR`;
  if (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > b.length * 8)) return `${JSON.stringify(cidr)}: prefix length must be 0-${b.length * 8}`;
  return undefined;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [addr, bitsText] = cidr.split('/');
  const net = addr ? ipBytes(addr) : undefined;
  const a = ipBytes(ip);
  if (!net || !a || net.length !== a.length) return false;
  const bits = bitsText === undefined ? net.length * 8 : Number(bitsText);
  for (let i = 0; i < net.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    const mask = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    if (((net[i] as number) & mask) !== ((a[i] as number) & mask)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Time windows: "[days ]HH:MM-HH:MM", days like mon-fri or sat,sun; an end before the start
// crosses midnight (22:00-06:00). Evaluated in the bastion's local time.
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
interface Window { readonly days: ReadonlySet<number>; readonly from: number; readonly to: number }

export function parseTimeWindow(spec: string): Window | string {
  const m = /^\s*(?:([a-z,-]+)\s+)?(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/i.exec(spec);
  if (!m) return `${JSON.stringify(spec)}: expected "[days ]HH:MM-HH:MM", e.g. "mon-fri 08:00-18:00"`;
  const days = new Set<number>();
  if (m[1]) {
    for (const part of m[1].toLowerCase().split(',')) {
      const [a, b] = part.split('-');
      const ia = DAYS.indexOf(a ?? '');
      const ib = b === undefined ? ia : DAYS.indexOf(b);
      if (ia < 0 || ib < 0) return `${JSON.stringify(spec)}: unknown day in ${JSON.stringify(part)} (use ${DAYS.join(', ')})`;
      for (let d = ia; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === ib) break;
      }
    }
  } else for (let d = 0; d < 7; d++) days.add(d);
  const from = Number(m[2]) * 60 + Number(m[3]);
  const to = Number(m[4]) * 60 + Number(m[5]);
  if (from > 24 * 60 || to > 24 * 60 || Number(m[3]) > 59 || Number(m[5]) > 59) return `${JSON.stringify(spec)}: not a time of day`;
  return { days, from, to };
}

export function inTimeWindow(w: Window, at: Date): boolean {
  const min = at.getHours() * 60 + at.getMinutes();
  const day = at.getDay();
  if (w.from <= w.to) return w.days.has(day) && min >= w.from && min < w.to;
  // Crosses midnight: the part after midnight belongs to the previous day's window.
  return (w.days.has(day) && min >= w.from) || (w.days.has((day + 6) % 7) && min < w.to);
}

/** Why this user may not log in now from this address, or undefined. */
export function loginRefusal(user: BastionUser, sourceIp: string, now: number): string | undefined {
  if (user.disabled) return 'account disabled';
  if (user.expires !== undefined && Date.parse(user.expires) <= now) return 'account expired';
  if (user.allow_from.length > 0 && !user.allow_from.some((c) => cidrContains(c, sourceIp))) return `source address ${sourceIp} not allowed`;
  if (user.allow_times.length > 0) {
    const at = new Date(now);
    const ok = user.allow_times.some((s) => {
      const w = parseTimeWindow(s);
      return typeof w !== 'string' && inTimeWindow(w, at);
    });
    if (!ok) return 'outside the allowed login hours';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Grants over the inventory.
export function grantActive(g: Grant, now: number): boolean {
  if (g.valid_from !== undefined && Date.parse(g.valid_from) > now) return false;
  if (g.valid_until !== undefined && Date.parse(g.valid_until) <= now) return false;
  return true;
}

export interface Target {
  readonly host: ResolvedHost;
  readonly account: string;
  /** The grants that allow it (a session ends when the last one lapses). */
  readonly grants: readonly Grant[];
  readonly portForwarding: boolean;
  readonly agentForwarding: boolean;
  readonly sftp: boolean;
}

/** Every (host, account) the user may reach now, in inventory order then account name. */
export function resolveTargets(user: BastionUser, grants: Iterable<Grant>, inv: InventoryConfig, now: number): Target[] {
  const hosts = resolveHosts(inv);
  const byKey = new Map<string, { host: ResolvedHost; account: string; grants: Grant[] }>();
  for (const g of grants) {
    if (!grantActive(g, now)) continue;
    if (g.user !== undefined ? g.user !== user.name : g.user_group === undefined || !user.groups.includes(g.user_group)) continue;
    const names = g.host !== undefined ? new Set([g.host]) : g.host_group !== undefined ? groupMembers(inv, g.host_group) : new Set<string>();
    for (const h of hosts) {
      if (!names.has(h.name)) continue;
      const key = `${h.name}\u0000${g.account}`;
      const cur = byKey.get(key) ?? { host: h, account: g.account, grants: [] };
      cur.grants.push(g);
      byKey.set(key, cur);
    }
  }
  const order = new Map(hosts.map((h, i) => [h.name, i]));
  return [...byKey.values()]
    .sort((a, b) => (order.get(a.host.name) ?? 0) - (order.get(b.host.name) ?? 0) || a.account.localeCompare(b.account))
    .map((t) => ({
      host: t.host,
      account: t.account,
      grants: t.grants,
      portForwarding: t.grants.some((g) => g.port_forwarding),
      agentForwarding: t.grants.some((g) => g.agent_forwarding),
      sftp: t.grants.some((g) => g.sftp),
    }));
}

/** `alice`, `alice@web01`, `alice@deploy@web01` (the SSH login name). */
export function parseLoginName(login: string): { readonly user: string; readonly account?: string; readonly host?: string } {
  const parts = login.split('@');
  if (parts.length >= 3) return { user: parts[0] as string, account: parts[1] as string, host: parts.slice(2).join('@') };
  if (parts.length === 2) return { user: parts[0] as string, host: parts[1] as string };
  return { user: login };
}

/** Users, groups, hosts and accounts are names: letters, digits, ".", "_", "-". */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
