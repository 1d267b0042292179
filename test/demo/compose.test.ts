/**
 * The compose stack cannot run here (no Docker daemon): it is validated offline.
 * `docker-compose config` (Debian's docker-compose, which CI installs) must parse
 * it with the example environment; the services, pins, health checks and the
 * security settings are checked on its normalised output; the auditkit config
 * files it mounts must pass `auditkit validate` with the environment the stack
 * gives them; every file the Dockerfile copies must exist.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const REPO = path.resolve(__dirname, '../..');
const COMPOSE = path.join(REPO, 'compose');
const FILE = path.join(COMPOSE, 'docker-compose.yml');
const ENV = path.join(COMPOSE, '.env.example');
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
if (!hasCompose) console.warn('docker-compose is not installed (Debian package docker-compose): the compose stack is not validated');
const describeCompose = hasCompose ? describe : describe.skip;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  ports?: Array<string | { published: string | number; target: number; host_ip?: string }>;
  command?: string[] | string;
}

function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(ENV, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

describeCompose('compose stack (validated, not run)', () => {
  let services: Record<string, Service> = {};

  beforeAll(() => {
    const r = spawnSync('docker-compose', ['--env-file', ENV, '-f', FILE, 'config'], { cwd: COMPOSE, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`docker-compose config failed:\n${r.stderr}`);
    services = (parse(r.stdout) as { services: Record<string, Service> }).services;
  });

  it('parses with the example environment and has every service of the stack', () => {
    expect(Object.keys(services).sort()).toEqual(['auditkit-setup', 'certs', 'demo-host', 'detect', 'es01', 'kibana', 'mailpit', 'reports']);
  });

  it('pins every image to a version and gives every long-running service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      expect([name, s.image]).toEqual([name, expect.stringMatching(/:(\d+\.\d+\.\d+|v\d+\.\d+\.\d+)$/)]);
      if (name !== 'auditkit-setup') expect([name, s.healthcheck?.test]).toEqual([name, expect.anything()]);
    }
    expect(services['es01']?.image).toBe(`docker.elastic.co/elasticsearch/elasticsearch:${envExample()['STACK_VERSION'] ?? ''}`);
    expect(services['kibana']?.image).toBe(`docker.elastic.co/kibana/kibana:${envExample()['STACK_VERSION'] ?? ''}`);
  });

  it('runs Elasticsearch with security and TLS on, Kibana as kibana_system, both behind the one-shot certificate service', () => {
    const es = services['es01']?.environment ?? {};
    expect(es['xpack.security.enabled']).toBe('true');
    expect(es['xpack.security.http.ssl.enabled']).toBe('true');
    expect(es['xpack.security.transport.ssl.enabled']).toBe('true');
    expect(es['ELASTIC_PASSWORD']).toBe(envExample()['ELASTIC_PASSWORD']);
    expect(services['es01']?.depends_on?.['certs']?.condition).toBe('service_healthy');
    const kb = services['kibana']?.environment ?? {};
    expect(kb['ELASTICSEARCH_USERNAME']).toBe('kibana_system');
    expect(kb['ELASTICSEARCH_HOSTS']).toBe('https://es01:9200');
    expect(kb['ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES']).toMatch(/ca\.crt$/);
    expect(services['kibana']?.depends_on?.['es01']?.condition).toBe('service_healthy');
    const certsCmd = JSON.stringify(services['certs']?.command ?? '');
    expect(certsCmd).toContain('elasticsearch-certutil ca');
    expect(certsCmd).toContain('kibana_system/_password');
  });

  it('runs auditkit setup once, then the report scheduler and the demo host, all with the CA and credentials', () => {
    const setup = services['auditkit-setup'];
    expect(setup?.command).toEqual(['setup', 'all']);
    expect(setup?.build?.dockerfile).toBe('compose/Dockerfile');
    expect(existsSync(path.join(setup?.build?.context ?? '', setup?.build?.dockerfile ?? ''))).toBe(true);
    expect(setup?.depends_on?.['es01']?.condition).toBe('service_healthy');
    expect(setup?.depends_on?.['kibana']?.condition).toBe('service_healthy');
    expect(services['reports']?.command).toEqual(['report', 'schedule']);
    expect(services['reports']?.depends_on?.['auditkit-setup']?.condition).toBe('service_completed_successfully');
    expect(services['demo-host']?.depends_on?.['auditkit-setup']?.condition).toBe('service_completed_successfully');
    expect(services['detect']?.command).toEqual(['rules', 'run', '--every']);
    expect(services['detect']?.depends_on?.['auditkit-setup']?.condition).toBe('service_completed_successfully');
    for (const n of ['auditkit-setup', 'reports', 'detect', 'demo-host']) {
      const e = services[n]?.environment ?? {};
      expect([n, e['AUDITKIT_ELASTICSEARCH_URL'], e['AUDITKIT_ELASTICSEARCH_CA_FILE'], e['AUDITKIT_ELASTICSEARCH_PASSWORD']]).toEqual([n, 'https://es01:9200', '/certs/ca/ca.crt', envExample()['ELASTIC_PASSWORD']]);
    }
  });

  it('publishes ports on loopback only by default', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        const hostIp = typeof p === 'string' ? p.split(':')[0] : p.host_ip;
        expect([name, hostIp]).toEqual([name, '127.0.0.1']);
      }
    }
  });

  it('mounts auditkit configs that pass `auditkit validate` with the environment of the stack', () => {
    const bin = path.join(REPO, 'bin', 'auditkit.js');
    if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
      console.warn('dist/ is not built (npm run build): config validation skipped');
      return;
    }
    for (const [service, file] of [['reports', 'config/auditkit.yml'], ['demo-host', 'demo-host/collector.yml']] as const) {
      const env = { ...process.env, ...(services[service]?.environment ?? {}), AUDITKIT_CONFIG: '' };
      const r = spawnSync(process.execPath, [bin, 'validate', '--config', path.join(COMPOSE, file)], { cwd: REPO, env, encoding: 'utf8' });
      expect([file, r.status, r.stderr]).toEqual([file, 0, '']);
    }
  });

  it('defines in .env.example every variable the compose file needs', () => {
    const text = readFileSync(FILE, 'utf8');
    const needed = new Set([...text.matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    const env = envExample();
    for (const v of needed) expect([v, v in env]).toEqual([v, true]);
  });

  it('copies only paths that exist into the auditkit image', () => {
    const docker = readFileSync(path.join(COMPOSE, 'Dockerfile'), 'utf8');
    const sources = [...docker.matchAll(/^COPY --from=build \/src\/(\S+)/gm)].flatMap((m) => (m[1] as string).split(' '));
    expect(sources.length).toBeGreaterThan(4);
    for (const s of ['rules/builtin', 'reports/assets', 'collectors/assets', 'bin', 'package.json']) expect([s, existsSync(path.join(REPO, s))]).toEqual([s, true]);
    expect(existsSync(path.join(COMPOSE, 'demo-host', 'entrypoint.sh'))).toBe(true);
  });
});
