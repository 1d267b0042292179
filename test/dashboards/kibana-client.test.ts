/**
 * The Kibana client, `setup kibana` and `dashboards export|import` against a
 * local HTTP server implementing Kibana's documented status, spaces and saved
 * objects import/export contract (kibana-contract-server.ts). Kibana itself
 * cannot run on this machine.
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditkitError, ExitCode } from '../../core';
import { buildKitExport, KibanaClient, parseNdjson, provisionKibana, TARGET_KIBANA, type ProvisionReport } from '../../dashboards';
import { run } from '../../cli';
import { freePort } from '../../core';
import { testEsUrl } from '../harness/es';
import { KibanaContractServer } from './kibana-contract-server';

const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
const kit = buildKitExport();
const kitObjects = kit.objects as unknown as ReadonlyArray<Record<string, unknown>>;
let server: KibanaContractServer;
let tmp: string;

beforeEach(async () => {
  server = new KibanaContractServer({ version: '8.14.3', apiKey: API_KEY, spaces: ['secops'] });
  await server.start();
});
afterEach(async () => {
  await server.stop();
});
beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'auditkit-kibana-'));
});
afterAll(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

function client(overrides: Partial<ConstructorParameters<typeof KibanaClient>[0]> = {}): KibanaClient {
  return new KibanaClient({ url: server.url, auth: { apiKey: API_KEY }, timeoutMs: 5_000, ...overrides });
}

async function provision(c = client(), space = 'default', ndjson = kit.ndjson, objects = kitObjects): Promise<ProvisionReport> {
  return provisionKibana(c, ndjson, objects, { space, origin: 'the kit' });
}

async function expectError(p: Promise<unknown>, code: string, exitCode: number, message: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuditkitError);
  expect((err as AuditkitError).code).toBe(code);
  expect((err as AuditkitError).exitCode).toBe(exitCode);
  expect((err as AuditkitError).message).toMatch(message);
}

describe('provisioning a Kibana that follows the documented contract', () => {
  it('imports every object with overwrite, kbn-xsrf, multipart NDJSON and the API key, then reads them back', async () => {
    const r = await provision();
    expect(r.imported).toBe(kit.objects.length);
    expect(r.verified).toBe(kit.objects.length);
    expect(r.kibanaVersion).toBe('8.14.3');
    expect(server.objects().size).toBe(kit.objects.length);
    const imp = server.requests.find((q) => q.url.startsWith('/api/saved_objects/_import'))!;
    expect(imp.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(imp.headers['kbn-xsrf']).toBeDefined();
    expect(imp.headers['authorization']).toBe(`ApiKey ${API_KEY}`);
    expect(imp.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    // The multipart file is exactly the NDJSON `dashboards export` writes.
    expect(imp.body.includes(Buffer.from(kit.ndjson))).toBe(true);
    expect(server.requests.map((q) => `${q.method} ${q.url.split('?')[0]}`)).toEqual(['GET /api/status', 'POST /api/saved_objects/_import', 'POST /api/saved_objects/_export']);
  });

  it('is safe to re-run: the same objects are replaced, nothing is added', async () => {
    await provision();
    const before = JSON.stringify([...server.objects().entries()]);
    const again = await provision();
    expect(again.imported).toBe(kit.objects.length);
    expect(JSON.stringify([...server.objects().entries()])).toBe(before);
  });

  it('imports into a space under /s/<space> after checking the space exists', async () => {
    await provision(client(), 'secops');
    expect(server.objects('secops').size).toBe(kit.objects.length);
    expect(server.objects('default').size).toBe(0);
    expect(server.requests.map((q) => `${q.method} ${q.url.split('?')[0]}`)).toEqual([
      'GET /api/status', 'GET /api/spaces/space/secops', 'POST /s/secops/api/saved_objects/_import', 'POST /s/secops/api/saved_objects/_export',
    ]);
  });

  it('accepts basic auth', async () => {
    const { apiKey: _unused, ...rest } = server.opts;
    server.opts = { ...rest, basic: { username: 'elastic', password: 's3cret' } };
    const r = await provision(client({ auth: { username: 'elastic', password: 's3cret' } }));
    expect(r.imported).toBe(kit.objects.length);
  });

  it('takes a Kibana of the next major', async () => {
    server.opts.version = '9.1.0';
    expect((await provision()).kibanaVersion).toBe('9.1.0');
  });

  it(`takes exactly the oldest supported Kibana, ${TARGET_KIBANA}`, async () => {
    server.opts.version = TARGET_KIBANA;
    expect((await provision()).imported).toBe(kit.objects.length);
  });
});

describe('clear errors', () => {
  it('refuses a Kibana older than the version the objects are authored for, before writing anything', async () => {
    server.opts.version = '8.9.3';
    await expectError(provision(), 'AK_KIBANA_VERSION', ExitCode.Unavailable, /Kibana 8\.9\.3 is older than 8\.10\.0, the oldest version the kit's dashboards are written for/);
    expect(server.requests.some((q) => q.url.includes('_import'))).toBe(false);
  });

  it('refuses a Kibana two majors newer', async () => {
    server.opts.version = '10.0.0';
    await expectError(provision(), 'AK_KIBANA_VERSION', ExitCode.Unavailable, /more than one major newer/);
  });

  it('refuses a file exported from a newer Kibana, naming the objects', async () => {
    const newer = kitObjects.map((o) => (o['type'] === 'dashboard' ? { ...o, typeMigrationVersion: '8.15.0' } : o));
    const text = newer.map((o) => JSON.stringify(o)).join('\n');
    await expectError(provision(client(), 'default', text, newer), 'AK_KIBANA_VERSION', ExitCode.Unavailable, /6 objects newer than Kibana 8\.14\.3[\s\S]*dashboard auditkit-dashboard-overview: typeMigrationVersion 8\.15\.0/);
    expect(server.objects().size).toBe(0);
  });

  it('reports refused credentials as an auth failure (exit 5)', async () => {
    await expectError(provision(client({ auth: { apiKey: 'wrong' } })), 'AK_KIBANA_AUTH', ExitCode.Auth, /refused the credentials \(401\) for GET \/api\/status\. Check kibana\.api_key/);
  });

  it('reports an unreachable Kibana (exit 4)', async () => {
    const port = await freePort();
    await expectError(provision(new KibanaClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 2_000 })), 'AK_KIBANA_UNREACHABLE', ExitCode.Unavailable, new RegExp(`cannot reach Kibana at http://127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  });

  it('reports a Kibana that is not available, with its status summary (exit 4)', async () => {
    server.opts.level = 'unavailable';
    await expectError(provision(), 'AK_KIBANA_NOT_READY', ExitCode.Unavailable, /Kibana 8\.14\.3 at .* is unavailable \(Elasticsearch is unavailable\)/);
  });

  it('names a missing space (exit 3)', async () => {
    await expectError(provision(client(), 'nope'), 'AK_KIBANA_SPACE', ExitCode.Config, /has no space "nope"/);
  });

  it('lists objects Kibana refused with their missing references', async () => {
    const dashOnly = kitObjects.filter((o) => o['id'] === 'auditkit-dashboard-commands');
    await expectError(
      provision(client(), 'default', dashOnly.map((o) => JSON.stringify(o)).join('\n'), dashOnly),
      'AK_KIBANA_IMPORT',
      ExitCode.Failure,
      /imported 0 of 1 objects[\s\S]*dashboard auditkit-dashboard-commands \("auditkit: Commands"\): missing_references: index-pattern auditkit-commands/,
    );
  });

  it('catches an import that reports success but did not store a data view (kibana#127664)', async () => {
    server.opts.dropOnStore = ['auditkit-alerts'];
    await expectError(provision(), 'AK_KIBANA_READBACK', ExitCode.Failure, /could not export the objects just imported/);
  });

  it('catches missing references on read-back', async () => {
    // The data view is stored, then deleted behind our back before the read-back.
    const c = client();
    const orig = c.exportObjects.bind(c);
    c.exportObjects = async (objs, space) => {
      server.objects().delete('index-pattern/auditkit-agent');
      return orig(objs.filter((o) => o.id !== 'auditkit-agent'), space);
    };
    await expectError(provision(c), 'AK_KIBANA_MISSING_REFERENCES', ExitCode.Failure, /1 missing reference in space "default": index-pattern auditkit-agent/);
  });
});

describe('TLS', () => {
  let tls: KibanaContractServer;
  let caFile: string;
  beforeAll(async () => {
    // A self-signed certificate for 127.0.0.1, made with the system's openssl.
    const key = path.join(tmp, 'kibana.key');
    caFile = path.join(tmp, 'kibana.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    tls = new KibanaContractServer({ version: '8.14.3', apiKey: API_KEY, tls: { key: readFileSync(key), cert: readFileSync(caFile) } });
    await tls.start();
  });
  afterAll(async () => {
    await tls.stop();
  });

  it('verifies Kibana with the CA file and imports over HTTPS', async () => {
    const c = new KibanaClient({ url: tls.url, auth: { apiKey: API_KEY }, ca: readFileSync(caFile), timeoutMs: 5_000 });
    expect((await provisionKibana(c, kit.ndjson, kitObjects, { space: 'default', origin: 'the kit' })).imported).toBe(kit.objects.length);
  });

  it('refuses a certificate it cannot verify, saying to set kibana.ca_file (exit 4)', async () => {
    const c = new KibanaClient({ url: tls.url, auth: { apiKey: API_KEY }, timeoutMs: 5_000 });
    await expectError(provisionKibana(c, kit.ndjson, kitObjects, { space: 'default', origin: 'the kit' }), 'AK_KIBANA_TLS', ExitCode.Unavailable, /TLS verification of Kibana at https:\/\/127\.0\.0\.1:\d+ failed \(DEPTH_ZERO_SELF_SIGNED_CERT\)\. Set kibana\.ca_file/);
  });
});

describe('the CLI', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      stdout += String(c);
      return true;
    });
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
      stderr += String(c);
      return true;
    });
    try {
      const code = await run(args);
      return { code, stdout, stderr };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  async function config(kibana: Record<string, string>): Promise<string> {
    const file = path.join(tmp, `auditkit-${Math.random().toString(36).slice(2)}.yml`);
    await fsp.writeFile(file, `kibana:\n${Object.entries(kibana).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}\n`, { mode: 0o600 });
    return file;
  }

  it('exports the file a user imports by hand, and `dashboards import` sends exactly that file', async () => {
    const out = path.join(tmp, 'auditkit.ndjson');
    const exp = await cli(['dashboards', 'export', '--out', out]);
    expect(exp.code).toBe(0);
    const text = await fsp.readFile(out, 'utf8');
    expect(text).toBe(kit.ndjson);
    expect(parseNdjson(text).problems).toEqual([]);
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const imp = await cli(['dashboards', 'import', out, '--config', cfg, '--space', 'secops']);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(new RegExp(`${kit.objects.length} objects imported into space "secops" of Kibana 8\\.14\\.3; read back: ${kit.objects.length} present, no missing references`));
    const sent = server.requests.find((q) => q.url.includes('_import'))!;
    expect(sent.body.includes(Buffer.from(text))).toBe(true);
  });

  it('runs `setup kibana --space` and reports JSON', async () => {
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const r = await cli(['setup', 'kibana', '--space', 'secops', '--config', cfg, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { imported: number; space: string; authored_for: string; kibana: { version: string } };
    expect(j).toMatchObject({ imported: kit.objects.length, space: 'secops', authored_for: TARGET_KIBANA, kibana: { version: '8.14.3' } });
  });

  it('prints the requests of `setup kibana --dry-run` without sending any', async () => {
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const r = await cli(['setup', 'kibana', '--dry-run', '--config', cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`POST ${server.url}/api/saved_objects/_import?overwrite=true`);
    expect(server.requests).toHaveLength(0);
  });

  it('exits 5 with the code and message when Kibana refuses the credentials', async () => {
    const cfg = await config({ url: server.url, api_key: 'bad' });
    const r = await cli(['setup', 'kibana', '--config', cfg]);
    expect(r.code).toBe(ExitCode.Auth);
    expect(r.stderr).toMatch(/refused the credentials \(401\).*\[AK_KIBANA_AUTH\]/);
  });

  it('exits 4 when Kibana is too old', async () => {
    server.opts.version = '8.7.1';
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const r = await cli(['dashboards', 'import', path.join(tmp, 'auditkit.ndjson'), '--config', cfg]);
    expect(r.code).toBe(ExitCode.Unavailable);
    expect(r.stderr).toMatch(/Kibana 8\.7\.1 is older than 8\.10\.0.*\[AK_KIBANA_VERSION\]/s);
  });

  it('rejects a file that is not an NDJSON export, naming the line', async () => {
    const bad = path.join(tmp, 'bad.ndjson');
    await fsp.writeFile(bad, '{"type":"dashboard","id":"x","attributes":{}}\nnot json\n');
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const r = await cli(['dashboards', 'import', bad, '--config', cfg]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr).toMatch(/bad\.ndjson:2: not JSON.*\[AK_DASHBOARDS_FILE\]/s);
  });

  it('rejects an unknown key in the kibana section of auditkit.yml', async () => {
    const cfg = await config({ url: server.url, apikey: API_KEY });
    const r = await cli(['setup', 'kibana', '--config', cfg]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr).toMatch(/kibana\.apikey: unknown key/);
  });

  it('refuses a --space that is not a Kibana space id (exit 2)', async () => {
    const cfg = await config({ url: server.url, api_key: API_KEY });
    const r = await cli(['setup', 'kibana', '--space', 'Sec Ops', '--config', cfg]);
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.stderr).toMatch(/--space "Sec Ops" is not a Kibana space id.*\[AK_USAGE\]/);
  });

  it('says how to configure Kibana when `setup kibana` has no kibana.url (exit 3)', async () => {
    const cfg = path.join(tmp, 'nokibana.yml');
    await fsp.writeFile(cfg, 'kibana: {}\n');
    const r = await cli(['setup', 'kibana', '--config', cfg]);
    expect(r.code).toBe(ExitCode.Config);
    expect(r.stderr).toMatch(/no Kibana configured: set kibana\.url in auditkit\.yml.*\[AK_KIBANA_NO_URL\]/s);
  });

  it('skips Kibana in `setup all` when none is configured', async () => {
    const cfg = path.join(tmp, 'empty.yml');
    await fsp.writeFile(cfg, 'kibana: {}\n');
    const r = await cli(['setup', 'all', '--config', cfg, '--es-url', testEsUrl()]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Kibana: not configured (kibana.url); skipped');
  });
});
