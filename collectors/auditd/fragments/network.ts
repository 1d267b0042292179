/**
 * Network: the first decodable SOCKADDR -> source.* (accept, recv*, bind) or
 * destination.* (everything else), the record's addr (PAM, login) -> source.*, and
 * network.direction when there is an address to give it a meaning.
 */
import { decodeSockaddr, type SockAddr } from '../decode';
import type { Categorisation } from './categorise';
import { sub, toInt, val, type AssembledEvent, type EventDoc } from './event';

function parseEnrichedSaddr(v: string | undefined): SockAddr | undefined {
  if (v === undefined || !v.startsWith('{')) return undefined;
  const kv: Record<string, string> = {};
  for (const p of v.slice(1, -1).trim().split(/\s+/)) {
    const e = p.indexOf('=');
    if (e > 0) kv[p.slice(0, e)] = p.slice(e + 1);
  }
  const fam = kv.fam;
  if (fam === 'inet' || fam === 'inet6') {
    const ip = kv.laddr ?? kv.addr;
    const port = toInt(kv.lport ?? kv.port);
    return { family: fam === 'inet' ? 'ipv4' : 'ipv6', ...(ip !== undefined ? { ip } : {}), ...(port !== undefined ? { port } : {}) };
  }
  if (fam === 'local' && kv.path !== undefined) return { family: 'unix', path: kv.path };
  return fam !== undefined ? { family: fam } : undefined;
}

function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));
}

export function networkFields(ev: AssembledEvent, cat: Categorisation, b: EventDoc): void {
  const { main } = ev;
  const doc = b.doc;
  const scName = cat.syscall;
  let sock: SockAddr | undefined;
  for (const s of ev.sockaddrs) {
    sock = decodeSockaddr(s.fields.get('saddr')) ?? parseEnrichedSaddr(s.enriched?.get('SADDR'));
    if (sock) break;
  }
  if (sock) {
    const side = scName === 'accept' || scName === 'accept4' || scName?.startsWith('recv') === true || scName === 'bind' ? 'source' : 'destination';
    if (sock.ip !== undefined) {
      const o = sub(doc, side);
      o.ip = sock.ip;
      o.address = sock.ip;
      b.ips.push(sock.ip);
    } else if (sock.path !== undefined) {
      sub(doc, side).address = sock.path;
    }
    if (sock.port !== undefined) sub(doc, side).port = sock.port;
    sub(sub(b.auditd(), 'data'), 'socket').family = sock.family;
  }
  const addr = val(main, 'addr');
  const addrIsIp = addr !== undefined && isIp(addr);
  if (addrIsIp) {
    const src = sub(doc, 'source');
    src.ip = addr;
    src.address = addr;
    b.ips.push(addr);
    if (cat.users === 'session' || main.type === 'LOGIN') sub(sub(sub(b.process(), 'entry_leader'), 'entry_meta'), 'source').ip = addr;
    const hn = val(main, 'hostname');
    if (hn !== undefined && hn !== addr) src.domain = hn;
  }
  if (cat.direction !== undefined && (sock?.ip !== undefined || addrIsIp)) sub(doc, 'network').direction = cat.direction;
}
