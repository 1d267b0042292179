/**
 * collectors/posture: file integrity with who changed it, inventory, exposure,
 * baseline check results. `runPostureScan` is `auditkit posture scan`; the agent
 * runs a `PostureService` (collectors/agent.ts) whose documents go through a
 * journal the pipeline follows like any input.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { BulkClient } from '../../elastic';
import { AuditkitError, ExitCode, expandHome, type Logger, type SmtpConfig } from '../../core';
import { exposureConfigSchema } from './config';
import { createDetector, type RulesConfig } from '../../rules';
import type { CollectorConfig } from '../config';
import { collectorAgent, collectorHost, runPipeline, sinkOptionsFromConfig, type PipelineResult } from '../pipeline';
import type { PostureContext } from './context';
import type { BaselineRunner } from './baseline';
import { connectScan, parsePortRules, type ScanFinding, type ScanTarget } from './exposure';
import { WriterIndex } from './fim-who';
import { PostureService, seedWriterIndex, type PassSummary } from './service';
import { documentId } from '../../schema';
import { baseDoc } from './context';

export { postureConfigSchema, defaultPostureConfig, type PostureConfig } from './config';
export { PostureService, seedWriterIndex, type PassSummary } from './service';
export { WriterIndex } from './fim-who';
export { connectScan, parsePortRules, type ScanTarget, type ScanFinding } from './exposure';
export type { BaselineRunner } from './baseline';

/** Where posture state lives: `<state_dir>/posture`, or per root for a mounted image or prepared tree. */
export function postureStateDir(collectorStateDir: string, root: string): string {
  const base = path.join(path.resolve(expandHome(collectorStateDir)), 'posture');
  return root === '/' ? base : path.join(base, 'roots', createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 16));
}

export interface PostureScanOptions {
  readonly config: { readonly collector: CollectorConfig; readonly rules: RulesConfig; readonly smtp: SmtpConfig };
  readonly namespace: string;
  readonly root?: string | undefined;
  readonly stateDir?: string | undefined;
  /** Absent: print documents with `print` (`--stdout`). */
  readonly client?: BulkClient | undefined;
  readonly print?: (doc: Record<string, unknown>) => void;
  readonly log?: Logger | undefined;
  readonly runBaseline?: BaselineRunner;
  /** TCP connect scan of these inventory addresses (central, optional). */
  readonly network?: readonly ScanTarget[] | undefined;
  readonly signal?: AbortSignal;
}

export interface PostureScanResult {
  readonly pass: PassSummary;
  readonly network: readonly ScanFinding[] | undefined;
  readonly shipped: PipelineResult | undefined;
}

/**
 * `auditkit posture scan`: one pass of FIM (baseline diff), inventory and checks,
 * shipped through the collector pipeline (spool, sink, streaming rules: the same
 * alerts the collector would raise) or printed. Who changed a file comes from the
 * tail of the configured auditd inputs.
 */
export async function runPostureScan(o: PostureScanOptions): Promise<PostureScanResult> {
  const cc = o.config.collector;
  const root = path.resolve(o.root ?? cc.posture.root);
  const host = collectorHost(cc);
  const ns = cc.namespace ?? o.namespace;
  const agent = collectorAgent(path.resolve(expandHome(cc.state_dir)), host.name, false);
  const stateDir = o.stateDir ? path.resolve(o.stateDir) : postureStateDir(cc.state_dir, root);
  const ctx: PostureContext = { host, agent, namespace: ns, root, stateDir, now: Date.now, log: o.log };
  const who = new WriterIndex();
  const auditLogs = cc.inputs.filter((i) => i.format === 'auditd').flatMap((i) => i.paths ?? (i.path ? [i.path] : []));
  seedWriterIndex(who, auditLogs.map((p) => path.resolve(expandHome(p))), ctx);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'auditkit-posture-'));
  const file = path.join(work, 'posture.ndjson');
  const fd = fs.openSync(file, 'w', 0o600);
  const emit = async (d: Record<string, unknown>): Promise<void> => {
    if (o.client) fs.writeSync(fd, JSON.stringify(d) + '\n');
    else o.print?.(d);
  };
  try {
    const service = new PostureService({ ctx, config: { ...cc.posture, root }, emit, who, whoWaitMs: 0, ...(o.runBaseline ? { runBaseline: o.runBaseline } : {}) });
    let pass: PassSummary;
    try {
      pass = await service.pass({ full: true, start: true });
    } finally {
      await service.close();
    }
    let network: ScanFinding[] | undefined;
    if (o.network && o.network.length > 0) {
      network = await connectScan(o.network, cc.posture.network_scan, o.signal);
      for (const f of network) if (f.open) await emit(findingDoc(ctx, f));
    }
    fs.closeSync(fd);
    let shipped: PipelineResult | undefined;
    if (o.client) {
      const detector = cc.rules.enabled ? await createDetector(o.config, { default: ns }, o.log ? { log: o.log } : {}) : undefined;
      try {
        shipped = await runPipeline({
          inputs: [{ paths: [file], format: 'ndjson', namespace: ns, startAt: 'beginning', maxLineBytes: 16 * 1024 * 1024 }],
          stateDir: path.join(work, 'pipeline'),
          namespace: ns,
          host,
          agent,
          oneShot: true,
          pollIntervalMs: 10,
          rotatedGraceMs: 0,
          batchRecords: 5_000,
          spool: { maxBytes: cc.spool.max_bytes, segmentBytes: cc.spool.segment_bytes, fsync: 'never', fsyncIntervalMs: 1_000, whenFull: 'block' },
          sink: sinkOptionsFromConfig(cc, o.client),
          heartbeatIntervalMs: 0,
          ...(o.log ? { log: o.log } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
          ...(detector ? { detect: (doc) => detector.process(doc) } : {}),
        });
      } finally {
        await detector?.close();
      }
    }
    return { pass, network, shipped };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed above */
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** An open port found by the network scan, as an inventory document of the scanned host. */
function findingDoc(ctx: PostureContext, f: ScanFinding): Record<string, unknown> {
  const now = ctx.now();
  return {
    ...baseDoc(ctx, 'inventory', now),
    message: `${f.host} ${f.address}:${f.port}/tcp reachable from the network${f.allowed ? '' : `, not allowed by exposure policy ${f.policy}`}`,
    event: { kind: 'event', category: ['network'], type: f.allowed ? ['info'] : ['start', 'denied'], action: f.allowed ? 'port_reachable' : 'port_exposed', dataset: 'auditkit.inventory', module: 'inventory', id: documentId('network-scan', f.host, f.address, f.port, Math.floor(now / 86_400_000)) },
    destination: { ip: f.address, address: f.address, port: f.port },
    server: { ip: f.address, address: f.address, port: f.port },
    network: { transport: 'tcp' },
    related: { ip: [f.address], hosts: [f.host] },
    auditkit: { inventory: { kind: 'exposure', exposure: { allowed: f.allowed, policy: f.policy, source: 'network' } } },
  };
}

/** Network scan targets from inventory hosts: their address and the allowed ports of their collector overrides. */
export function scanTargetsFrom(hosts: ReadonlyArray<{ readonly name: string; readonly address: string; readonly collector: Readonly<Record<string, unknown>> }>, defaults: CollectorConfig['posture']): ScanTarget[] {
  return hosts.map((h) => {
    // The group overrides are checked by the same schema the host's collector will apply to them.
    const raw = (h.collector['posture'] as { exposure?: unknown } | undefined)?.exposure;
    const parsed = raw === undefined ? undefined : exposureConfigSchema.safeParse(raw);
    if (parsed && !parsed.success) {
      throw new AuditkitError('AK_POSTURE_SCAN_POLICY', `inventory host ${h.name}: collector.posture.exposure is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { exitCode: ExitCode.Config });
    }
    const exposure = parsed?.data ?? defaults.exposure;
    return { host: h.name, address: h.address, allowed: parsePortRules(exposure.allowed_ports), policy: exposure.policy };
  });
}
