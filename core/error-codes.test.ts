import { readdirSync, readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes';
import { AuditkitError, ExitCode } from './errors';

const ROOT = path.resolve(__dirname, '..');

/** Library source: every unit folder (one with an index.ts), without its tests. */
function librarySources(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const e of readdirSync(ROOT, { withFileTypes: true })) {
    if (e.isDirectory() && !['node_modules', 'dist', 'test', 'bench', 'tools'].includes(e.name) && existsSync(path.join(ROOT, e.name, 'index.ts'))) walk(path.join(ROOT, e.name));
  }
  return out;
}

interface Site {
  readonly where: string;
  readonly code: string;
  /** `ExitCode.X` when the call passes a plain one, else undefined. */
  readonly exit: string | undefined;
}

function scan(): { literals: Map<string, string>; sites: Site[] } {
  const literals = new Map<string, string>();
  const sites: Site[] = [];
  for (const file of librarySources()) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const where = (n: ts.Node): string => `${path.relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
    const codesOf = (e: ts.Expression): string[] =>
      ts.isStringLiteral(e) ? [e.text] : ts.isConditionalExpression(e) ? [...codesOf(e.whenTrue), ...codesOf(e.whenFalse)] : ts.isParenthesizedExpression(e) ? codesOf(e.expression) : [];
    const visit = (n: ts.Node): void => {
      if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && /^AK_[A-Z0-9_]+$/.test(n.text) && !literals.has(n.text)) literals.set(n.text, where(n));
      if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && n.arguments?.[0] && /^(new )?AuditkitError$|^super$/.test(n.expression.getText(sf))) {
        const opts = n.arguments[2];
        let exit: string | undefined;
        if (opts && ts.isObjectLiteralExpression(opts)) {
          for (const p of opts.properties) if (ts.isPropertyAssignment(p) && p.name.getText(sf) === 'exitCode' && ts.isPropertyAccessExpression(p.initializer)) exit = p.initializer.name.text;
        }
        for (const code of codesOf(n.arguments[0])) {
          sites.push({ where: where(n), code, exit });
          if (!literals.has(code)) literals.set(code, where(n));
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return { literals, sites };
}

describe('the error catalogue', () => {
  const { literals, sites } = scan();

  it('lists every AK_* code that library code uses, and every code thrown as an AuditkitError', () => {
    const missing = [...literals].filter(([code]) => !isErrorCode(code)).map(([code, where]) => `${code} (${where})`);
    expect(missing).toEqual([]);
  });

  it('lists no code that nothing uses, so docs/errors.md documents no ghosts', () => {
    const unused = Object.keys(ERROR_CODES).filter((code) => !literals.has(code));
    expect(unused).toEqual([]);
  });

  it('agrees with every throw that names its exit code, so the exit documented is the exit a user sees', () => {
    const exitName = (v: number | null): string | undefined => Object.entries(ExitCode).find(([, n]) => n === v)?.[0];
    const disagree = sites
      .filter((s) => s.exit !== undefined && isErrorCode(s.code) && s.exit !== exitName(ERROR_CODES[s.code].exit))
      .map((s) => `${s.where}: ${s.code} exits ExitCode.${s.exit ?? ''}, the catalogue says ${exitName(ERROR_CODES[s.code as ErrorCode].exit) ?? 'null'}`);
    expect(disagree).toEqual([]);
    expect(sites.length).toBeGreaterThan(100);
  });

  it('gives every code a sentence of meaning and of what to do next', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(`${code}: ${info.description}`).toMatch(/^[A-Z0-9_]+: \S.*[.)]$/s);
      expect(`${code}: ${info.next}`).toMatch(/^[A-Z0-9_]+: \S.*[.)]$/s);
    }
  });

  it("is where an AuditkitError takes its exit code from when the thrower names none", () => {
    expect(new AuditkitError('AK_INTERNAL', 'x').exitCode).toBe(ExitCode.Internal);
    expect(new AuditkitError('AK_DEPLOY_UNREACHABLE', 'x').exitCode).toBe(ExitCode.Unavailable);
    expect(new AuditkitError('AK_LINE_TOO_LONG', 'x').exitCode).toBe(ExitCode.Failure);
    expect(new AuditkitError('AK_USAGE', 'x', { exitCode: ExitCode.Failure }).exitCode).toBe(ExitCode.Failure);
  });

  it('does not compile an unknown code', () => {
    // @ts-expect-error AK_NO_SUCH_CODE is not in the catalogue
    const e = new AuditkitError('AK_NO_SUCH_CODE', 'x');
    expect(e.code).toBe('AK_NO_SUCH_CODE');
  });
});
