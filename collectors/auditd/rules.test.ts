import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const DIR = path.resolve(__dirname, '../assets/audit');
const rules = (name: string): string[] =>
  readFileSync(path.join(DIR, name), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));

describe('shipped audit rules', () => {
  const lines = rules('auditkit.rules');

  it('contain only auditctl rule syntax and no immutable switch', () => {
    for (const l of lines) expect(l).toMatch(/^(-w \S+ -p [rwxa]+ -k [\w-]+|-a (always|never),(exit|exclude|user|task) .+|-b \d+|-f [012]|--backlog_wait_time \d+)$/);
    expect(lines).not.toContain('-e 2');
  });

  it('record execve of real users and root logins for both ABIs', () => {
    for (const arch of ['b64', 'b32']) {
      expect(lines).toContain(`-a always,exit -F arch=${arch} -S execve,execveat -F auid>=1000 -F auid!=4294967295 -k exec`);
      expect(lines).toContain(`-a always,exit -F arch=${arch} -S execve,execveat -F auid=0 -k exec`);
    }
  });

  it('watch identity, privilege and ssh files, time changes, modules and the audit configuration', () => {
    for (const f of ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/gshadow', '/etc/sudoers', '/etc/sudoers.d/', '/etc/ssh/sshd_config', '/root/.ssh/', '/etc/audit/']) {
      expect(lines.some((l) => l.startsWith(`-w ${f} -p wa`))).toBe(true);
    }
    expect(lines.some((l) => l.includes('-S adjtimex,settimeofday,clock_settime -k time'))).toBe(true);
    expect(lines.some((l) => l.includes('init_module,finit_module,delete_module -k modules'))).toBe(true);
  });

  it('watch the rest of the posture FIM real-time set so file changes can say who made them', () => {
    for (const f of ['/etc/ld.so.preload', '/etc/pam.d/', '/etc/crontab', '/etc/cron.d/', '/var/spool/cron/', '/etc/systemd/system/', '/etc/profile', '/etc/profile.d/']) {
      expect(lines).toContain(`-w ${f} -p wa -k fim`);
    }
  });

  it('keep immutable mode in its own file', () => {
    expect(rules('auditkit-immutable.rules')).toEqual(['-e 2']);
  });
});
