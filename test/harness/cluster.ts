/**
 * A real three-node (or n-node) Elasticsearch cluster on loopback for node-failure
 * tests: the same distribution and the same `startDevNode` as every other test, each
 * node with its own dir, a fixed HTTP and transport port and a name, so a node
 * killed with SIGKILL comes back on the same data and ports by starting it again.
 *
 * Its own nodes, not the run's shared one. `stop()` kills every node's process group
 * and removes every dir; call it from afterAll so a failing test leaves nothing.
 * Nodes also carry a parent-death signal: a killed jest leaves no JVM behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../core';
import { createClient, elasticsearchConfigSchema, startDevNode, type Client, type DevNode } from '../../elastic';

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly transportPort: number;
  readonly nodeDir: string;
  /** Whether its process runs (started and not killed). */
  readonly running: boolean;
  /** SIGKILL its process group: a crash, no shutdown. */
  kill(): Promise<void>;
  /** Start it again on the same dir and ports; resolves once it answers `_cluster/health`. */
  start(): Promise<void>;
}

export interface TestCluster {
  readonly nodes: readonly ClusterNode[];
  readonly urls: readonly string[];
  /** A client over every node (the transport moves past a dead one). */
  readonly client: Client;
  node(name: string): ClusterNode;
  /** Wait for a health status with every node joined; false on timeout. */
  waitForStatus(status: 'green' | 'yellow', timeoutMs: number, nodes?: number): Promise<boolean>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes?: number;
  readonly heapMb?: number;
  readonly startTimeoutMs?: number;
  readonly onProgress?: (message: string) => void;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const count = opts.nodes ?? 3;
  // /tmp, not os.tmpdir(): the node's unprivileged user must traverse every parent.
  const base = fs.mkdtempSync(path.join(process.getuid?.() === 0 ? '/tmp' : os.tmpdir(), 'auditkit-cluster-'));
  fs.chmodSync(base, 0o755);
  const clusterName = `auditkit-test-${path.basename(base).slice(-6).toLowerCase()}`;
  const specs: Array<{ name: string; port: number; transportPort: number; nodeDir: string }> = [];
  for (let i = 0; i < count; i++) {
    specs.push({ name: `node-${i + 1}`, port: await freePort(), transportPort: await freePort(), nodeDir: path.join(base, `node-${i + 1}`) });
  }
  const seedHosts = specs.map((s) => `127.0.0.1:${s.transportPort}`);
  const procs = new Map<string, DevNode>();
  const bootstrapped = new Set<string>();

  const startOne = async (spec: (typeof specs)[number]): Promise<void> => {
    const first = !bootstrapped.has(spec.name);
    const node = await startDevNode({
      nodeDir: spec.nodeDir,
      port: spec.port,
      heapMb: opts.heapMb ?? 256,
      dieWithParent: true,
      startTimeoutMs: opts.startTimeoutMs ?? 240_000,
      // Two cores shared by three JVMs and the test: the client compiler only and the
      // serial collector (no GC threads) cost less CPU to start; throughput does not matter here.
      jvmOptions: ['-XX:TieredStopAtLevel=1', '-XX:-UseG1GC', '-XX:+UseSerialGC'],
      cluster: {
        clusterName,
        nodeName: spec.name,
        transportPort: spec.transportPort,
        seedHosts,
        ...(first ? { initialMasterNodes: specs.map((s) => s.name) } : {}),
      },
      ...(opts.onProgress ? { onProgress: (m: string) => opts.onProgress?.(`${spec.name}: ${m}`) } : {}),
    });
    bootstrapped.add(spec.name);
    procs.set(spec.name, node);
  };

  const nodes: ClusterNode[] = specs.map((spec) => ({
    name: spec.name,
    url: `http://127.0.0.1:${spec.port}`,
    port: spec.port,
    transportPort: spec.transportPort,
    nodeDir: spec.nodeDir,
    get running() {
      return procs.has(spec.name);
    },
    async kill() {
      const p = procs.get(spec.name);
      procs.delete(spec.name);
      await p?.kill();
    },
    async start() {
      if (procs.has(spec.name)) return;
      await startOne(spec);
    },
  }));
  const urls = nodes.map((n) => n.url);
  // Built as the kit builds its clients (the same connection pool as a collector's).
  const client = createClient(elasticsearchConfigSchema.parse({ url: [...urls], request_timeout_ms: 60_000 }), { urls, origin: 'config' });

  const stop = async (): Promise<void> => {
    await client.close().catch(() => undefined);
    await Promise.all([...procs.values()].map((p) => p.kill()));
    procs.clear();
    fs.rmSync(base, { recursive: true, force: true });
  };

  try {
    // Together: no node answers _cluster/health before a master is elected by a quorum.
    await Promise.all(specs.map((s) => startOne(s)));
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes,
    urls,
    client,
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name} in this cluster (${nodes.map((x) => x.name).join(', ')})`);
      return n;
    },
    async waitForStatus(status, timeoutMs, want = count) {
      try {
        const h = await client.cluster.health(
          { wait_for_status: status, wait_for_nodes: String(want), wait_for_no_initializing_shards: true, timeout: `${Math.round(timeoutMs / 1000)}s` },
          { requestTimeout: timeoutMs + 10_000, ignore: [408] },
        );
        return !h.timed_out;
      } catch {
        return false;
      }
    },
    stop,
  };
}
