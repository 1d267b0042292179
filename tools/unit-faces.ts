/**
 * The faces of the units: for each unit's index.ts, the names it exports and the
 * names code outside the unit (other units, test/, bench/, tools/, and the built
 * dist/<unit>/index.js a test requires) imports from it. A face should export what
 * others use and nothing else, and say so by name: `export *` hides what a unit
 * offers and lets inner helpers leak out. tools/unit-faces.test.ts holds every
 * unit to that.
 *
 * Syntax only (no type checker), so it reads the whole tree in about a second: a
 * face is a list of `export { … } from './inner'` lines, whose names are in the text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export const UNITS = ['cli', 'core', 'schema', 'elastic', 'collectors', 'fleet', 'deploy', 'bastion', 'demo', 'rules', 'reports', 'dashboards'] as const;
const READ = [...UNITS, 'test', 'bench', 'tools'];

export interface Face {
  readonly unit: string;
  /** Names index.ts exports (locally declared or re-exported by name). */
  readonly exported: readonly string[];
  /** The `export * from '…'` specifiers in index.ts (there should be none). */
  readonly stars: readonly string[];
  /** Name → files outside the unit that import it from the unit's index. */
  readonly usedBy: ReadonlyMap<string, readonly string[]>;
  /** Exported names no file outside the unit imports. */
  readonly unused: readonly string[];
}

function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (!['node_modules', 'dist'].includes(e.name) && !e.name.startsWith('.')) walk(path.join(dir, e.name));
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path.join(dir, e.name));
    }
  };
  for (const d of READ) walk(path.join(root, d));
  return out;
}

const unitOf = (root: string, file: string): string => path.relative(root, file).split(path.sep)[0] ?? '';

/** The unit whose index a relative specifier from `file` names, if it names one. */
function indexTarget(root: string, file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const rel = path.relative(root, path.resolve(path.dirname(file), spec)).replace(/\.(ts|js)$/, '').replace(/\/index$/, '');
  return (UNITS as readonly string[]).includes(rel) ? rel : undefined;
}

function declaredNames(st: ts.Statement): string[] {
  if (!ts.canHaveModifiers(st) || !ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return [];
  if (ts.isVariableStatement(st)) return st.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  const named = st as ts.Statement & { name?: ts.Node };
  return named.name && ts.isIdentifier(named.name) ? [named.name.text] : [];
}

export function unitFaces(root: string): Face[] {
  const used = new Map<string, Map<string, string[]>>(); // unit -> name -> importers
  const use = (unit: string, name: string, by: string): void => {
    const names = used.get(unit) ?? new Map<string, string[]>();
    used.set(unit, names);
    names.set(name, [...(names.get(name) ?? []), by]);
  };
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const from = unitOf(root, file);
    const rel = path.relative(root, file);
    // A test that loads the built unit: const { a, b } = require('…/dist/<unit>/index.js').
    for (const m of text.matchAll(/const \{([^}]+)\} = require\([^)]*dist\/(\w+)\/index\.js/g)) {
      for (const n of (m[1] ?? '').split(',')) if (m[2] !== from) use(m[2] ?? '', n.split(':')[0]?.trim() ?? '', `${rel} (dist)`);
    }
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      let spec: string | undefined;
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) spec = node.moduleSpecifier.text;
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) spec = node.argument.literal.text;
      const target = spec === undefined ? undefined : indexTarget(root, file, spec);
      if (target && target !== from) {
        if (ts.isImportDeclaration(node)) {
          const nb = node.importClause?.namedBindings;
          if (node.importClause?.name) use(target, 'default', rel);
          if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) use(target, (e.propertyName ?? e.name).text, rel);
          if (nb && ts.isNamespaceImport(nb)) use(target, '*', rel);
        } else if (ts.isExportDeclaration(node)) {
          if (node.exportClause && ts.isNamedExports(node.exportClause)) for (const e of node.exportClause.elements) use(target, (e.propertyName ?? e.name).text, rel);
          else use(target, '*', rel);
        } else if (ts.isImportTypeNode(node)) {
          const q = node.qualifier;
          use(target, q === undefined ? '*' : ts.isIdentifier(q) ? q.text : q.getText(sf).split('.')[0] ?? '*', rel);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return UNITS.map((unit) => {
    const index = path.join(root, unit, 'index.ts');
    const sf = ts.createSourceFile(index, readFileSync(index, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const exported: string[] = [];
    const stars: string[] = [];
    for (const st of sf.statements) {
      if (ts.isExportDeclaration(st)) {
        if (!st.exportClause) stars.push(st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier) ? st.moduleSpecifier.text : '?');
        else if (ts.isNamedExports(st.exportClause)) exported.push(...st.exportClause.elements.map((e) => e.name.text));
        else exported.push(st.exportClause.name.text);
      } else exported.push(...declaredNames(st));
    }
    const usedBy = used.get(unit) ?? new Map<string, string[]>();
    const unused = usedBy.has('*') ? [] : exported.filter((n) => !usedBy.has(n));
    return { unit, exported, stars, usedBy, unused };
  });
}
