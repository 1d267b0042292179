/**
 * RE2 → Lucene regexp translation details that the real-node parity test
 * (test/rules/es-parity.test.ts) only meets when a built-in rule happens to use them.
 */
import { toLuceneRegex } from './es-query';

describe('toLuceneRegex', () => {
  it('escapes a literal `-` first or last in a class (Lucene reads any bare `-` as a range and fails)', () => {
    expect(toLuceneRegex('\\w\\$\\{?IFS\\}?[\\w/$-]')).toBe('.*[a-zA-Z0-9_]\\$\\{?IFS\\}?[a-zA-Z0-9_/$\\-].*');
    expect(toLuceneRegex('x[-a]')).toBe('.*x[\\-a].*');
    expect(toLuceneRegex('x[^-a]')).toBe('.*x[^\\-a].*');
    expect(toLuceneRegex('x[a-z]')).toBe('.*x[a-z].*');
  });

  it('keeps a `]` first in a class a literal, as RE2 does', () => {
    expect(toLuceneRegex('x[]a]y')).toBe('.*x[\\]a]y.*');
    expect(toLuceneRegex('x[^]a]y')).toBe('.*x[^\\]a]y.*');
  });
});
