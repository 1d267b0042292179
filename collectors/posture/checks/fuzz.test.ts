/**
 * Property tests: whatever a host's files contain, the parsers do not throw and a scan
 * yields one well-formed result per check. Inputs mix tokens of the real formats (so the
 * interesting branches are reached) with arbitrary text and control characters.
 */
import fc from 'fast-check';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinPoliciesDir, loadPolicies, runPolicies, type Policy } from '.';
import { parseDirectives, parseDpkgStatus, parseFstab, parseGroup, parseMountUnitOptions, parsePasswd, parseSysctl, splitLines, sysctlKeyMatches } from './parsers';
import { hardenedTree, writeTree } from './test-trees';

const TOKENS = [
  'PermitRootLogin', 'Include', 'Match', 'User', '=', ' ', '\t', '#', '\\', '\n', '\r\n', '"', "'", ':', ',', '*', '..', '/',
  'yes', 'no', '0', '-1', '99999999999999999999', 'net.ipv4.ip_forward', 'net/ipv4/conf/eth0.1/rp_filter', '-', ';',
  'Package:', 'Status:', 'install ok installed', 'deinstall ok config-files', ' continuation', 'Version:',
  'ALL', 'NOPASSWD:', 'Defaults', 'use_pty', '!authenticate', '(#0)', '%sudo', '@includedir', '[Mount]', 'Options=',
  '/etc/ssh/sshd_config.d/*.conf', '../../../../etc/shadow', '\u0000', '\u00e9', '\u{1F600}', '[', ']', '\u001b[2J', '\u009b', '\u202e',
];
const messy = fc.array(fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 80 }).map((a) => a.join(''));

describe('parsers on arbitrary input', () => {
  it('never throw and only point at lines that exist', () => {
    fc.assert(
      fc.property(messy, (text) => {
        const lineCount = text.split(/\r?\n/).length;
        for (const dialect of ['sshd', 'space', 'equals'] as const) for (const d of parseDirectives(text, dialect)) expect(d.line).toBeLessThanOrEqual(lineCount);
        for (const a of parseSysctl(text)) {
          expect(a.line).toBeLessThanOrEqual(lineCount);
          sysctlKeyMatches(a.key, 'net.ipv4.ip_forward');
        }
        parseDpkgStatus(text);
        parsePasswd(text);
        parseGroup(text);
        parseFstab(text);
        parseMountUnitOptions(text);
        for (const l of splitLines(text, { comments: '#', continuation: true })) expect(l.line).toBeLessThanOrEqual(lineCount);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a scan of a tree with arbitrary sshd_config, sysctl.conf, dpkg status and sudoers', () => {
  let policies: Policy[];
  let root: string;
  beforeAll(async () => {
    policies = await loadPolicies([builtinPoliciesDir()]);
    root = mkdtempSync(path.join(os.tmpdir(), 'ak-fuzz-'));
    await writeTree(root, hardenedTree());
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('never throws and gives every check a valid status and evidence', async () => {
    const ids = policies.flatMap((p) => p.checks.map((c) => c.id));
    await fc.assert(
      fc.asyncProperty(messy, messy, messy, messy, async (sshd, sysctl, dpkg, sudoers) => {
        await fsp.writeFile(path.join(root, 'etc/ssh/sshd_config'), sshd);
        await fsp.writeFile(path.join(root, 'etc/sysctl.d/60-hardening.conf'), sysctl);
        await fsp.writeFile(path.join(root, 'var/lib/dpkg/status'), dpkg);
        await fsp.writeFile(path.join(root, 'etc/sudoers'), sudoers);
        const r = await runPolicies(policies, root);
        expect(r.results.map((x) => x.id)).toEqual(ids);
        for (const x of r.results) {
          expect(['pass', 'fail', 'not_applicable', 'error']).toContain(x.status);
          expect(typeof x.evidence).toBe('string');
          // Evidence quotes files but never raw control characters or bidi overrides.
          expect(x.evidence).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
        }
        expect(r.score).toBeGreaterThanOrEqual(0);
        expect(r.score).toBeLessThanOrEqual(100);
      }),
      { numRuns: 40 },
    );
  });
});
