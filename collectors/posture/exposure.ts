/**
 * Exposure: which listening sockets the policy allows, and an optional central
 * TCP connect scan of the inventory's own addresses.
 *
 * The connect scan is deliberately small: only addresses the caller takes from
 * the inventory (never a range), a fixed port list, at most `maxTargets`
 * attempts (refused above, not truncated silently), at most `ratePerS` new
 * connections per second, each closed as soon as it connects. It finds what a
 * host exposes from the network's side (a firewall may hide what /proc shows).
 */
import * as net from 'node:net';
import { AuditkitError, ExitCode, sleep } from '../../core';
import type { ExposureConfig, NetworkScanConfig } from './config';

export interface PortRule {
  readonly from: number;
  readonly to: number;
  readonly transport?: 'tcp' | 'udp';
}

export function parsePortRules(allowed: ExposureConfig['allowed_ports']): PortRule[] {
  return allowed.map((a) => {
    if (typeof a === 'number') return { from: a, to: a };
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(a);
    const from = Number(m?.[1]);
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    return { from, to, ...(m?.[3] ? { transport: m[3] as 'tcp' | 'udp' } : {}) };
  });
}

export function portAllowed(rules: readonly PortRule[], port: number, transport: 'tcp' | 'udp'): boolean {
  return rules.some((r) => port >= r.from && port <= r.to && (r.transport === undefined || r.transport === transport));
}

export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip.startsWith('::ffff:127.');
}

export function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

export interface ScanTarget {
  /** Inventory host name. */
  readonly host: string;
  readonly address: string;
  /** Allowed ports of the host's policy (its groups' collector overrides). */
  readonly allowed: readonly PortRule[];
  readonly policy: string;
}

export interface ScanFinding {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly open: boolean;
  readonly allowed: boolean;
  readonly policy: string;
}

/** TCP connect scan of inventory addresses. Resolves with every attempt's result. */
export async function connectScan(targets: readonly ScanTarget[], cfg: NetworkScanConfig, signal?: AbortSignal): Promise<ScanFinding[]> {
  const attempts = targets.length * cfg.ports.length;
  if (attempts > cfg.max_targets) {
    throw new AuditkitError('AK_POSTURE_SCAN_TOO_LARGE', `the network scan would make ${attempts} connection attempts (${targets.length} addresses × ${cfg.ports.length} ports), more than collector.posture.network_scan.max_targets (${cfg.max_targets}); select fewer hosts (--group/--host), fewer ports, or raise the limit`, { exitCode: ExitCode.Usage });
  }
  const out: ScanFinding[] = [];
  const gap = 1000 / cfg.rate_per_s;
  let next = Date.now();
  const pending: Array<Promise<void>> = [];
  for (const t of targets) {
    for (const port of cfg.ports) {
      if (signal?.aborted) break;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      next = Math.max(next, Date.now()) + gap;
      pending.push(
        tryConnect(t.address, port, cfg.timeout_ms).then((open) => {
          out.push({ host: t.host, address: t.address, port, open, allowed: portAllowed(t.allowed, port, 'tcp'), policy: t.policy });
        }),
      );
    }
  }
  await Promise.all(pending);
  return out.sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (open: boolean): void => {
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(open);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
