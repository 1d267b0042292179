import { hasLinkedSession, linkedSessionId } from './session';

describe('linked session id', () => {
  it('is the same for numbers and their text, and for -1 written either way', () => {
    expect(linkedSessionId('h', 1000, 7)).toBe(linkedSessionId('h', '1000', ' 7 '));
    expect(linkedSessionId('h', 1000, 7)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('differs by host, login uid and kernel session', () => {
    const ids = new Set([linkedSessionId('h', 1000, 7), linkedSessionId('g', 1000, 7), linkedSessionId('h', 1001, 7), linkedSessionId('h', 1000, 8)]);
    expect(ids.size).toBe(4);
  });

  it('is empty for unset login uid or session (daemons, pre-login)', () => {
    expect(linkedSessionId('h', 4294967295, 7)).toBe('');
    expect(linkedSessionId('h', -1, 7)).toBe('');
    expect(linkedSessionId('h', 1000, '4294967295')).toBe('');
    expect(linkedSessionId('h', 'x', 1)).toBe('');
    expect(hasLinkedSession(1000, 3)).toBe(true);
  });

  it('matches the formula written in README.md (a pinned value the shell hook can test against)', () => {
    expect(linkedSessionId('host-1', 1000, 7)).toBe(PINNED);
  });
});
const PINNED = 'z1JiiC5Gh3uvyHFrD7zGD7';
