import { ttyDevice } from './command-event';

// Moved here from collectors/shell/parsers.test.ts with the builder.
describe('terminal devices', () => {
  it('derives the Linux character device numbers of pts and tty names', () => {
    expect(ttyDevice('pts/0')).toEqual({ major: 136, minor: 0 });
    expect(ttyDevice('pts/300')).toEqual({ major: 137, minor: 44 });
    expect(ttyDevice('tty1')).toEqual({ major: 4, minor: 1 });
    expect(ttyDevice('console')).toBeUndefined();
  });
});
