import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonDepthExceeds', () => {
  it('is false up to the bound and true past it', () => {
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds(`{"a":${'{"b":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`)).toBe(true);
  });

  it('is false for many shallow openers (the precheck passes them to the full scan)', () => {
    const wide = `[${Array.from({ length: 200 }, () => '{"a":[1]}').join(',')}]`;
    expect(jsonDepthExceeds(wide)).toBe(false);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const s = JSON.stringify({ cmd: `echo "${'{['.repeat(100)}" \\" ${'['.repeat(50)}` });
    expect(jsonDepthExceeds(s)).toBe(false);
    expect(jsonDepthExceeds(`${'['.repeat(MAX_JSON_DEPTH)}"\\"[[["${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
  });

  it('honours a smaller bound', () => {
    expect(jsonDepthExceeds(nested(3), 2)).toBe(true);
    expect(jsonDepthExceeds(nested(2), 2)).toBe(false);
    expect(jsonDepthExceeds('{}', 0)).toBe(true);
    expect(jsonDepthExceeds('"{"', 0)).toBe(false);
  });
});
