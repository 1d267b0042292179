/**
 * The bastion's web portal end to end, real parts only: headless Chromium (playwright-core
 * driving Debian's /usr/bin/chromium) → the built `auditkit bastion serve` with its portal
 * (HTTPS, a self-signed certificate generated on first start) → real sshd targets on
 * loopback, with users, grants, tokens and documents in the run's real Elasticsearch node.
 *
 * Needs root (sshd), chromium, playwright-core and a build (`npm run build`); skipped with
 * a warning otherwise (never under CI=true: the suite fails instead). Everything it makes
 * (temp dir, sshd and bastion processes, the browser, the state index and the namespace's
 * indices) is removed in afterAll, also after a failure. Screenshots go to docs/ only
 * when AUDITKIT_SCREENSHOTS=1.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../../core';
import { assertValidDocument } from '../../schema';
import { esTokenStore, totpCode } from '../../bastion';
import { buildKitExport } from '../../dashboards';
import { bastionRigUnavailable, startBastionRig, type BastionRig } from '../harness/bastion';
import { testClient } from '../harness/es';

const CHROMIUM = '/usr/bin/chromium';
const DOCS = path.resolve(__dirname, '../../docs');
const SHOTS = process.env['AUDITKIT_SCREENSHOTS'] === '1';

type PW = typeof import('playwright-core');
let pw: PW | undefined;
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pw = require('playwright-core') as PW;
} catch {
  pw = undefined;
}
const why = [bastionRigUnavailable(), !pw ? 'playwright-core missing' : undefined, !existsSync(CHROMIUM) ? `${CHROMIUM} missing (apt-get install chromium)` : undefined].filter(Boolean);
if (why.length) {
  if (process.env['CI'] === 'true') throw new Error(`bastion web tests cannot run under CI: ${why.join('; ')}`);
  console.warn(`bastion web tests skipped: ${why.join('; ')}`);
}
const maybe = why.length ? describe.skip : describe;

type Browser = Awaited<ReturnType<PW['chromium']['launch']>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;
type Ctx = Awaited<ReturnType<Browser['newContext']>>;

maybe('the bastion web portal with real Chromium and real sshd targets', () => {
  let rig: BastionRig | undefined;
  const started = (): BastionRig => {
    if (!rig) throw new Error('the bastion rig did not start');
    return rig;
  };
  let tmp = '';
  let stateIndex = '';
  let base = '';
  let browser: Browser;
  const secrets: Record<string, string> = {};
  const cli = (args: string[], input?: string): ReturnType<BastionRig['cli']> => started().cli(args, input);
  const search = (...a: Parameters<BastionRig['search']>): ReturnType<BastionRig['search']> => started().search(...a);
  const screen = (page: Page): Promise<string> =>
    page.evaluate(() => {
      const t = (globalThis as unknown as { akTerm?: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).akTerm;
      if (!t) return '';
      const b = t.buffer.active;
      const rows: string[] = [];
      for (let i = 0; i < b.length; i++) rows.push(b.getLine(i)?.translateToString(true) ?? '');
      return rows.join('\n');
    });
  const waitScreen = async (page: Page, re: RegExp, timeoutMs = 30_000): Promise<string> => {
    const t0 = Date.now();
    let s = '';
    while (Date.now() - t0 < timeoutMs) {
      s = await screen(page);
      if (re.test(s)) return s;
      await sleep(100);
    }
    throw new Error(`the page's terminal never showed ${re}; it shows:\n${s.slice(-1500)}`);
  };
  const shot = async (page: Page, name: string): Promise<void> => {
    if (SHOTS) await page.screenshot({ path: path.join(DOCS, name) });
  };
  const login = async (ctx: Ctx, user: string, password: string, at = Date.now()): Promise<Page> => {
    const page = await ctx.newPage();
    await page.goto(`${base}/login`);
    await page.fill('#user', user);
    await page.fill('#password', password);
    await page.fill('#code', totpCode(secrets[user] as string, at));
    await page.click('#login');
    await page.waitForURL(`${base}/hosts`);
    return page;
  };

  beforeAll(async () => {
    // w01..w03 are real sshd targets; wdown is in the inventory but nothing listens there.
    rig = await startBastionRig({
      name: 'bweb',
      hostPrefix: 'w',
      hosts: 3,
      acceptEnv: ['AUDITKIT_BASTION_SESSION'],
      downHosts: ['wdown'],
      groups: { web: ['w01', 'w02', 'wdown'] },
      web: true,
      users: [
        { name: 'alice', groups: ['ops', 'bastion-admin'], password: 'alice-password-123', totp: true },
        { name: 'bob', password: 'bob-password-1234', totp: true },
      ],
      grants: [
        ['--user-group', 'ops', '--host-group', 'web', '--account', 'root'],
        ['alice', '--host', 'w03', '--account', 'root'],
        ['bob', '--host', 'w01', '--account', 'root'],
      ],
    });
    ({ tmp, stateIndex } = rig);
    Object.assign(secrets, rig.totpSecrets);
    const web = rig.served.web;
    if (!web) throw new Error('bastion serve printed no portal URL');
    base = web.url;
    expect(web.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    // The generated certificate and key are private to the bastion.
    for (const f of ['web-cert.pem', 'web-key.pem']) expect(statSync(path.join(tmp, 'state', f)).mode & 0o777).toBe(0o600);
    browser = await (pw as PW).chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await rig?.close();
  }, 120_000);

  it('serves no page or API without a session, refuses a login without the CSRF token, and sets strict cookies and CSP', async () => {
    const req = await (pw as PW).request.newContext({ ignoreHTTPSErrors: true, baseURL: base, maxRedirects: 0 });
    try {
      const hosts = await req.get('/hosts');
      expect(hosts.status()).toBe(302);
      expect(hosts.headers()['location']).toBe('/login');
      for (const api of ['/api/hosts', '/api/sessions', '/api/live', '/api/replay/00000000-0000-0000-0000-000000000000']) expect((await req.get(api)).status()).toBe(401);
      const loginPage = await req.get('/login');
      const csp = loginPage.headers()['content-security-policy'] ?? '';
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(await loginPage.text()).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
      const s = await req.get('/api/session');
      const cookie = s.headersArray().find((h) => h.name.toLowerCase() === 'set-cookie')?.value ?? '';
      expect(cookie).toMatch(/^__Host-ak_sid=/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Strict/);
      const { csrf } = (await s.json()) as { csrf: string };
      const body = { user: 'alice', password: 'alice-password-123', code: totpCode(secrets['alice'] as string, Date.now()) };
      // Without the token, and with the token but from another origin: refused before the password is looked at.
      expect((await req.post('/api/login', { data: body, headers: { origin: base } })).status()).toBe(403);
      expect((await req.post('/api/login', { data: body, headers: { origin: 'https://evil.example', 'x-csrf-token': csrf } })).status()).toBe(403);
      // A wrong code with the token: one answer for every refusal.
      const wrong = await req.post('/api/login', { data: { ...body, code: '000000' }, headers: { origin: base, 'x-csrf-token': csrf } });
      expect(wrong.status()).toBe(401);
      expect(await wrong.json()).toEqual({ error: 'login refused' });
    } finally {
      await req.dispose();
    }
    const refused = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.auth.method': 'web-password+totp' } }, { term: { 'event.outcome': 'failure' } }] } });
    expect(refused[0]).toMatchObject({ user: { name: 'alice' }, event: { reason: 'wrong TOTP code' } });
  });

  let aliceCtx: Ctx;
  let alice: Page;
  let webSession = '';
  it('logs alice in with password and TOTP, lists her hosts (searchable), and runs commands in a web terminal: output on the page, commands in Elasticsearch with her identity and the session id', async () => {
    aliceCtx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 700 } });
    alice = await login(aliceCtx, 'alice', 'alice-password-123');
    await alice.waitForSelector('#hosts tbody tr');
    expect(await alice.$$eval('#hosts tbody tr', (rows) => rows.map((r) => r.getAttribute('data-host')))).toEqual(['w01', 'w02', 'w03', 'wdown']);
    await alice.fill('#search', 'w0');
    expect(await alice.$$eval('#hosts tbody tr', (rows) => rows.length)).toBe(3);
    await shot(alice, 'bastion-web-hosts.png');
    await alice.fill('#search', 'w01');
    await alice.click('#hosts tbody tr[data-host="w01"] a.open');
    await alice.waitForURL(/\/terminal\?host=w01/);
    await alice.waitForSelector('#status[data-session]');
    webSession = (await alice.getAttribute('#status', 'data-session')) ?? '';
    expect(webSession).toMatch(/^[0-9a-f-]{36}$/);
    await waitScreen(alice, /# ?$/m);
    await alice.click('#term');
    await alice.keyboard.type('echo web-marker-$((6*7)); echo "sid=$AUDITKIT_BASTION_SESSION"');
    await alice.keyboard.press('Enter');
    const s = await waitScreen(alice, /web-marker-42\s+sid=[0-9a-f-]{36}/);
    expect(s).toContain(`sid=${webSession}`);
    await shot(alice, 'bastion-web-terminal.png');
    const cmds = await search('commands', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': webSession } }, { term: { 'process.command_line': 'echo web-marker-$((6*7)); echo "sid=$AUDITKIT_BASTION_SESSION"' } }] } });
    expect(cmds[0]).toMatchObject({ user: { name: 'root' }, host: { name: 'w01' }, auditkit: { bastion: { user: 'alice', session_id: webSession, via: 'web', guard: { action: 'allow' } } } });
    for (const d of cmds) assertValidDocument(d);
  }, 150_000);

  it('blocks a destructive command typed in the web terminal: it never reaches the host, and the page says why', async () => {
    const marker = path.join(tmp, 'web-guard-marker');
    await alice.keyboard.type(`touch ${marker} && rm -rf --no-preserve-root /`);
    await alice.keyboard.press('Enter');
    await waitScreen(alice, /BLOCKED/);
    await alice.keyboard.type('echo after-block-ok');
    await alice.keyboard.press('Enter');
    await waitScreen(alice, /after-block-ok\s*\n.*# ?$/m);
    expect(existsSync(marker)).toBe(false);
    const blocked = await search('commands', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': webSession } }, { term: { 'event.action': 'bastion-command-blocked' } }] } });
    expect(blocked[0]).toMatchObject({ auditkit: { bastion: { user: 'alice', guard: { action: 'block' } } } });
    await alice.keyboard.type('exit');
    await alice.keyboard.press('Enter');
    await alice.waitForSelector('#status[data-closed="1"]');
  }, 150_000);

  it('refuses a host bob is not granted when he edits the request, and logs it', async () => {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const bob = await login(ctx, 'bob', 'bob-password-1234');
      await bob.waitForSelector('#hosts tbody tr');
      expect(await bob.$$eval('#hosts tbody tr', (rows) => rows.map((r) => r.getAttribute('data-host')))).toEqual(['w01']);
      await bob.goto(`${base}/terminal?host=w02&account=root`);
      await bob.waitForSelector('#status.fail');
      expect(await bob.textContent('#status')).toMatch(/refused: you have no access to root@w02/);
      // The API the page uses refuses too (the websocket is the only way to a host).
      const r = await bob.evaluate(async () => (await fetch('/api/replay/00000000-0000-0000-0000-000000000000')).status);
      expect(r).toBe(404);
      // Without the CSRF token in the websocket URL: refused.
      const noCsrf = await bob.evaluate(
        (host) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(`wss://${host}/api/ws/terminal?host=w01&account=root`);
            ws.onmessage = (e) => resolve(String(e.data));
            ws.onclose = () => resolve('closed');
          }),
        new URL(base).host,
      );
      expect(noCsrf).toMatch(/CSRF/);
    } finally {
      await ctx.close();
    }
    const refused = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.auth.method': 'web-terminal' } }, { term: { 'user.name': 'bob' } }] } });
    expect(refused[0]).toMatchObject({ event: { outcome: 'failure', reason: 'you have no access to root@w02' } });
    const started = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.user': 'bob' } }, { term: { 'event.action': 'bastion-session-start' } }] } }, 0, 1000);
    expect(started).toHaveLength(0);
  });

  const tokenUrl = async (args: string[]): Promise<string> => {
    const r = await cli(['--json', 'bastion', 'token', ...args]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    const { url } = JSON.parse(r.stdout) as { url: string };
    expect(url.startsWith(`${base}/t/`)).toBe(true);
    return url;
  };
  const openToken = async (url: string): Promise<{ page: Page; ctx: Ctx }> => {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForSelector('#status[data-session], #status.fail');
    return { page, ctx };
  };

  it('opens a one-time token URL once: a second use, an expired token and a revoked grant are refused and logged', async () => {
    const url = await tokenUrl(['alice', '--host', 'w03', '--ttl', '5m']);
    const first = await openToken(url);
    try {
      await waitScreen(first.page, /# ?$/m);
      await first.page.click('#term');
      await first.page.keyboard.type('echo token-marker-$((7*6))');
      await first.page.keyboard.press('Enter');
      await waitScreen(first.page, /token-marker-42/);
    } finally {
      await first.ctx.close();
    }
    const again = await openToken(url);
    expect(await again.page.textContent('#status')).toMatch(/refused: this link was used already/);
    await again.ctx.close();

    const short = await tokenUrl(['alice', '--host', 'w03', '--ttl', '10s']);
    await sleep(10_500);
    const late = await openToken(short);
    expect(await late.page.textContent('#status')).toMatch(/refused: this link has expired/);
    await late.ctx.close();

    const g = await cli(['--json', 'bastion', 'grant', 'bob', '--host', 'w02', '--account', 'root']);
    const grantId = (JSON.parse(g.stdout) as { id: string }).id;
    const revokedUrl = await tokenUrl(['bob', '--host', 'w02']);
    expect((await cli(['bastion', 'revoke', grantId])).code).toBe(0);
    await sleep(1500); // the door reloads state every second
    const revoked = await openToken(revokedUrl);
    expect(await revoked.page.textContent('#status')).toMatch(/refused: no longer allowed/);
    await revoked.ctx.close();

    const docs = await search('sessions', { term: { 'auditkit.bastion.auth.method': 'web-token' } }, 4);
    const reasons = docs.map((d) => `${String((d['event'] as { outcome: string }).outcome)}:${String((d['event'] as { reason?: string }).reason ?? '')}`);
    expect(reasons).toEqual(expect.arrayContaining(['success:', 'failure:token used', 'failure:token expired', expect.stringMatching(/^failure:grant no longer valid/)]));
    const tokenCmds = await search('commands', { term: { 'process.command_line': 'echo token-marker-$((7*6))' } });
    expect(tokenCmds[0]).toMatchObject({ auditkit: { bastion: { user: 'alice', via: 'token' } } });
  }, 300_000);

  it('uses a token once even when two bastion instances present it at the same moment (op_type create in the state index)', async () => {
    const a = testClient();
    const b = testClient();
    try {
      const store = esTokenStore(a, stateIndex);
      for (let i = 0; i < 5; i++) {
        const value = await store.issue({ user: 'alice', host: 'w01', account: 'root', expires: new Date(Date.now() + 60_000).toISOString() });
        const uses = await Promise.all([esTokenStore(a, stateIndex).consume(value), esTokenStore(b, stateIndex).consume(value)]);
        expect(uses.filter((u) => u.ok)).toHaveLength(1);
        expect(uses.filter((u) => !u.ok && u.reason === 'used')).toHaveLength(1);
      }
    } finally {
      await a.close();
      await b.close();
    }
    // The state index holds no usable token: only its digest.
    const r = await started().es.search<Record<string, unknown>>({ index: stateIndex, size: 100, query: { match_all: {} } });
    const ids = (r.hits.hits ?? []).map((h) => String(h._id)).filter((id) => id.startsWith('token'));
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id).toMatch(/^token(-used)?:[0-9a-f]{64}$/);
  });

  it('replays alice\'s web session in the page with the same output, with seek and speed', async () => {
    await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': webSession } }, { term: { 'event.action': 'bastion-session-end' } }] } });
    await alice.goto(`${base}/sessions`);
    await alice.waitForSelector(`#sessions tr[data-session="${webSession}"] a`);
    await alice.click(`#sessions tr[data-session="${webSession}"] a`);
    await alice.waitForURL(/\/replay\//);
    await alice.selectOption('#speed', '16');
    await alice.waitForSelector('#main[data-done="1"]', { timeout: 60_000 });
    const s = await waitScreen(alice, /web-marker-42/);
    expect(s).toMatch(/BLOCKED/);
    // Seek back to the start: the screen is empty again, then plays on.
    await alice.evaluate(() => (globalThis as unknown as { akSeek(t: number): void }).akSeek(0));
    await alice.click('#play');
    await alice.evaluate(() => (globalThis as unknown as { akSeek(t: number): void }).akSeek(0.05));
    expect(await screen(alice)).not.toMatch(/web-marker-42/);
    await shot(alice, 'bastion-web-replay.png');
    // Someone else's session is not found for bob.
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const bob = await login(ctx, 'bob', 'bob-password-1234', Date.now() + 30_000);
      const st = await bob.evaluate(async (id) => (await fetch(`/api/replay/${id}`)).status, webSession);
      expect(st).toBe(404);
    } finally {
      await ctx.close();
    }
  }, 150_000);

  it('opens the replay from the link the Kibana sessions view carries (the url format of the session id)', async () => {
    const kit = buildKitExport({ replayPortal: base });
    const dv = kit.objects.find((o) => o.id === 'auditkit-sessions');
    const fmt = JSON.parse(String(dv?.attributes['fieldFormatMap'])) as Record<string, { id: string; params: { urlTemplate: string } }>;
    const link = fmt['auditkit.bastion.session_id']?.params.urlTemplate.replace('{{value}}', encodeURIComponent(webSession)) ?? '';
    expect(link).toBe(`${base}/replay/${webSession}`);
    await alice.goto(link);
    await alice.selectOption('#speed', '16');
    await alice.waitForSelector('#main[data-done="1"]', { timeout: 60_000 });
    await waitScreen(alice, /web-marker-42/);
  }, 120_000);

  it('runs a batch on three hosts, one of them down, from the CLI: a task id at once, two results and one clear failure, in Elasticsearch; each command an ordinary command event of its host', async () => {
    const started = await cli(['--json', 'bastion', 'exec', '--user', 'alice', '--group', 'web', '--', 'echo batch-$((20+22))']);
    expect([started.code, started.stderr]).toEqual([0, '']);
    const { task, hosts } = JSON.parse(started.stdout) as { task: string; hosts: number };
    expect(hosts).toBe(3);
    const shown = await cli(['--json', 'bastion', 'task', task, '--wait', '--timeout', '90s']);
    const t = JSON.parse(shown.stdout) as { done: number; total: number; results: Array<{ host: string; outcome: string; exit_code: number | null; stdout: string; error?: string }> };
    expect(shown.code).toBe(1); // one host failed
    expect(t.done).toBe(3);
    const by = Object.fromEntries(t.results.map((r) => [r.host, r]));
    expect(by['w01']).toMatchObject({ outcome: 'success', exit_code: 0, stdout: 'batch-42\n' });
    expect(by['w02']).toMatchObject({ outcome: 'success', exit_code: 0, stdout: 'batch-42\n' });
    expect(by['wdown']).toMatchObject({ outcome: 'failure', exit_code: null, error: 'target-unreachable' });
    const docs = await search('tasks', { term: { 'auditkit.task.id': task } }, 4);
    for (const d of docs) assertValidDocument(d);
    const cmds = await search('commands', { term: { 'auditkit.bastion.task_id': task } }, 2);
    expect(cmds.map((c) => (c['host'] as { name: string }).name).sort()).toEqual(['w01', 'w02']);
    expect(cmds[0]).toMatchObject({ process: { command_line: 'echo batch-$((20+22))' }, auditkit: { bastion: { user: 'alice', via: 'batch' } } });
  }, 150_000);

  it('checks each batch host against the caller\'s grants and the guard rail: a blocked command never reaches a host, an ungranted host is never opened', async () => {
    const marker = path.join(tmp, 'batch-guard-marker');
    const r = await cli(['--json', 'bastion', 'exec', '--user', 'bob', '--host', 'w01', '--host', 'w03', '--wait', '--', `touch ${marker} && rm -rf --no-preserve-root /`]);
    const t = JSON.parse(r.stdout) as { results: Array<{ host: string; outcome: string; error?: string; stdout: string; stderr: string }> };
    const by = Object.fromEntries(t.results.map((x) => [x.host, x]));
    expect(by['w01']).toMatchObject({ outcome: 'failure', error: 'blocked' });
    // The user is told why, as over ssh (the guard's message goes to the session's output).
    expect(`${by['w01']?.stdout ?? ''}${by['w01']?.stderr ?? ''}`).toMatch(/BLOCKED/);
    expect(by['w03']).toMatchObject({ outcome: 'failure', error: 'no-grant' });
    expect(existsSync(marker)).toBe(false);
  }, 150_000);

  it('runs a batch from the page and shows its task page: two results and one clear failure', async () => {
    await alice.goto(`${base}/hosts`);
    await alice.fill('#task-groups', 'web');
    await alice.fill('#task-command', 'uname -s');
    await alice.click('#task-run');
    await alice.waitForURL(/\/task\//);
    await alice.waitForSelector('#main[data-done="1"]', { timeout: 90_000 });
    const rows = await alice.$$eval('#task tbody tr', (trs) => trs.map((tr) => `${tr.getAttribute('data-host') ?? ''}:${tr.className}:${tr.children[1]?.textContent ?? ''}`));
    expect(rows.sort()).toEqual(['w01:ok:ok', 'w02:ok:ok', 'wdown:fail:FAILED: target-unreachable']);
    await shot(alice, 'bastion-web-task.png');
  }, 150_000);

  it('lets an admin list, watch read-only and end a live session (portal), ends one from the CLI too, and refuses all of it to a non-admin', async () => {
    // Own users (the door reloads state every second): carol (no admin) on w01, erin an admin.
    await Promise.all(
      ([['carol', []], ['erin', ['--group', 'bastion-admin']]] as const).map(async ([u, extra]) => {
        const a = await cli(['bastion', 'user', 'add', u, ...extra, '--password-stdin'], `${u}-password-123\n`);
        expect([a.code, a.stderr]).toEqual([0, '']);
        const [r, g] = await Promise.all([cli(['--json', 'bastion', 'totp', 'enroll', u]), u === 'carol' ? cli(['bastion', 'grant', 'carol', '--host', 'w01', '--account', 'root']) : undefined]);
        expect(r.code).toBe(0);
        if (g) expect([g.code, g.stderr]).toEqual([0, '']);
        secrets[u] = (JSON.parse(r.stdout) as { secret: string }).secret;
      }),
    );
    await sleep(1500);
    const carolCtx = await browser.newContext({ ignoreHTTPSErrors: true });
    const erinCtx = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const carol = await login(carolCtx, 'carol', 'carol-password-123');
      await carol.goto(`${base}/terminal?host=w01&account=root`);
      await carol.waitForSelector('#status[data-session]');
      const sid = (await carol.getAttribute('#status', 'data-session')) ?? '';
      expect(sid).toMatch(/^[0-9a-f-]{36}$/);
      await waitScreen(carol, /# ?$/m);
      await carol.click('#term');
      await carol.keyboard.type('echo live-one-$((6*7))');
      await carol.keyboard.press('Enter');
      await waitScreen(carol, /live-one-42/);

      // A non-admin can neither list, nor end, nor watch (even with her valid CSRF token). In a second
      // page of her browser: leaving the terminal page would end her session.
      const other = await carolCtx.newPage();
      await other.goto(`${base}/live`);
      await other.waitForSelector('#page-error');
      expect(await other.textContent('#page-error')).toMatch(/admins only/);
      expect(await other.$$('#live')).toHaveLength(0);
      const denied = await other.evaluate(async ({ id, host }) => {
        const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
        const list = (await fetch('/api/live')).status;
        const kill = (await fetch(`/api/live/${id}/kill`, { method: 'POST', headers: { 'x-csrf-token': csrf } })).status;
        const watch = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`wss://${host}/api/ws/watch/${id}?csrf=${encodeURIComponent(csrf)}`);
          ws.binaryType = 'arraybuffer';
          ws.onmessage = (e) => resolve(typeof e.data === 'string' ? e.data : 'terminal bytes');
          ws.onclose = () => resolve('closed');
        });
        return { list, kill, watch };
      }, { id: sid, host: new URL(base).host });
      expect(denied).toEqual({ list: 403, kill: 403, watch: JSON.stringify({ error: 'admins only' }) });
      await other.close();
      // The session survived her tries.
      const liveNow = JSON.parse((await cli(['--json', 'bastion', 'sessions', 'list', '--live'])).stdout) as { live: Array<{ id: string; user: string }> };
      expect(liveNow.live.map((x) => x.id)).toContain(sid);

      // The admin lists it, watches it read-only and sees what carol's session prints.
      const erin = await login(erinCtx, 'erin', 'erin-password-123');
      await erin.goto(`${base}/live`);
      await erin.waitForSelector(`#live tr[data-session="${sid}"]`);
      expect(await erin.textContent(`#live tr[data-session="${sid}"]`)).toMatch(/carol.*root@w01/);
      await erin.click(`#live tr[data-session="${sid}"] a`);
      await erin.waitForURL(new RegExp(`/watch/${sid}$`));
      await erin.waitForFunction(() => (globalThis as unknown as { akSocket?: { readyState: number } }).akSocket?.readyState === 1);
      await sleep(300);
      await carol.click('#term');
      await carol.keyboard.type('echo live-two-$((7*6))');
      await carol.keyboard.press('Enter');
      await waitScreen(erin, /live-two-42/);
      // The watcher cannot type: keys in the page and bytes sent on the socket never reach the session.
      await erin.click('#term');
      await erin.keyboard.type('echo watcher-typed-1');
      await erin.keyboard.press('Enter');
      await erin.evaluate(() => (globalThis as unknown as { akSocket: { send(d: Uint8Array): void } }).akSocket.send(new TextEncoder().encode('echo watcher-injected-2\r')));
      await carol.keyboard.type('echo live-three-$((8*5+2))');
      await carol.keyboard.press('Enter');
      await waitScreen(erin, /live-three-42/);
      const carolScreen = await waitScreen(carol, /live-three-42/);
      expect(carolScreen).not.toMatch(/watcher-typed|watcher-injected/);
      expect(await screen(erin)).not.toMatch(/watcher-typed|watcher-injected/);

      // The admin ends it: carol's page says so, the socket closes, the end document says why.
      await erin.goto(`${base}/live`);
      await erin.waitForSelector(`#live tr[data-session="${sid}"] button.kill`);
      // The page reloads itself once the kill is answered: wait for that reload, or the next goto races it.
      await Promise.all([erin.waitForEvent('load'), erin.click(`#live tr[data-session="${sid}"] button.kill`)]);
      await carol.waitForSelector('#status[data-closed="1"]');
      expect(await screen(carol)).toMatch(/ended by an administrator/);
      // No longer listed once it has ended.
      for (let i = 0; ; i++) {
        await erin.goto(`${base}/live`);
        await erin.waitForSelector('#live');
        if ((await erin.$$(`#live tr[data-session="${sid}"]`)).length === 0) break;
        if (i > 20) throw new Error(`session ${sid} still listed as live after it was ended`);
        await sleep(500);
      }
      const ended = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': sid } }, { term: { 'event.action': 'bastion-session-end' } }] } });
      expect(ended[0]).toMatchObject({ event: { reason: 'killed' }, auditkit: { bastion: { user: 'carol' } } });
      const typed = await search('commands', { term: { 'auditkit.bastion.session_id': sid } }, 3);
      expect(typed.map((d) => (d['process'] as { command_line: string }).command_line)).toEqual(['echo live-one-$((6*7))', 'echo live-two-$((7*6))', 'echo live-three-$((8*5+2))']);

      // `auditkit bastion sessions kill ID` ends a live session of the serving bastion the same way.
      await carol.goto(`${base}/terminal?host=w01&account=root`);
      await carol.waitForSelector('#status[data-session]');
      const sid2 = (await carol.getAttribute('#status', 'data-session')) ?? '';
      expect(sid2).not.toBe(sid);
      await waitScreen(carol, /# ?$/m);
      const listed = JSON.parse((await cli(['--json', 'bastion', 'sessions', 'list', '--live'])).stdout) as { live: Array<{ id: string; user: string; host: string }> };
      expect(listed.live.find((x) => x.id === sid2)).toMatchObject({ user: 'carol', host: 'w01' });
      const k = await cli(['bastion', 'sessions', 'kill', sid2]);
      expect([k.code, k.stderr]).toEqual([0, '']);
      await carol.waitForSelector('#status[data-closed="1"]');
      expect(await screen(carol)).toMatch(/ended by an administrator/);
      const ended2 = await search('sessions', { bool: { filter: [{ term: { 'auditkit.bastion.session_id': sid2 } }, { term: { 'event.action': 'bastion-session-end' } }] } });
      expect(ended2[0]).toMatchObject({ event: { reason: 'killed' } });
      const again = await cli(['bastion', 'sessions', 'kill', sid2]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/not live/);
    } finally {
      await carolCtx.close();
      await erinCtx.close();
    }
  }, 240_000);

  it('shows the certificate the portal generated in its state dir (mode 600), reused on the next start', () => {
    const pem = readFileSync(path.join(tmp, 'state', 'web-cert.pem'), 'utf8');
    expect(pem).toMatch(/BEGIN CERTIFICATE/);
  });
});
