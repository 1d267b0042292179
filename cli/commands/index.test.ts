import { LAUNCHER_VALUE_OPTIONS } from '../../deploy';
import { COMMAND_LOADERS, commandsFor, loadCommands, VALUE_OPTIONS } from '.';

const names = (argv: string[]): string[] => commandsFor(argv).map((c) => String(c.command).split(' ')[0] as string);

describe('the command list', () => {
  it('names each loader after the command it loads', () => {
    expect(loadCommands().map((c) => String(c.command).split(' ')[0])).toEqual(COMMAND_LOADERS.map((l) => l.name));
  });

  it('loads only the command a command line names, skipping global options and their values', () => {
    expect(names(['collect', '--once'])).toEqual(['collect']);
    expect(names(['--config', '/etc/auditkit/collect.yml', '--json', 'collect'])).toEqual(['collect']);
    expect(names(['--es-url', 'http://x', 'report', 'run'])).toEqual(['report']);
    expect(names(['--config=/etc/a.yml', 'rules', 'list'])).toEqual(['rules']);
  });

  it('skips the same global options as the host launcher does when it looks for `collect` (deploy cannot import cli)', () => {
    expect([...LAUNCHER_VALUE_OPTIONS].sort()).toEqual([...VALUE_OPTIONS].sort());
  });

  it('loads every command for top-level help and for words that are not commands', () => {
    const all = COMMAND_LOADERS.map((l) => l.name);
    expect(names(['--help'])).toEqual(all);
    expect(names(['colect'])).toEqual(all);
    expect(names([])).toEqual(all);
  });
});
