/**
 * Lists, for each unit, the names other folders import from its faces (index.ts,
 * config.ts), and the names each index.ts exports that nobody outside uses.
 *   npx tsx tools/unit-faces.ts [--write]
 * With --write, rewrites every index.ts whose face is `export *` as explicit lists
 * of the names used outside (a face that exports what nobody uses is a wall with holes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '..');
const UNITS = ['cli', 'core', 'schema', 'elastic', 'collectors', 'fleet', 'deploy', 'bastion', 'demo', 'rules', 'reports', 'dashboards'];
const cfg = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
const program = ts.createProgram(cfg.fileNames, cfg.options);
const checker = program.getTypeChecker();
const unitOf = (f: string): string => path.relative(root, f).split(path.sep)[0] ?? '';

const used = new Map<string, Set<string>>(); // face file -> names
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || !sf.fileName.startsWith(root) || sf.fileName.includes('node_modules')) continue;
  const from = unitOf(sf.fileName);
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const r = ts.resolveModuleName(node.moduleSpecifier.text, sf.fileName, cfg.options, ts.sys).resolvedModule;
      if (r && !r.isExternalLibraryImport && unitOf(r.resolvedFileName) !== from) {
        const set = used.get(r.resolvedFileName) ?? new Set<string>();
        used.set(r.resolvedFileName, set);
        if (ts.isImportDeclaration(node)) {
          const nb = node.importClause?.namedBindings;
          if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) set.add((e.propertyName ?? e.name).text);
          if (nb && ts.isNamespaceImport(nb)) set.add('*');
        } else if (node.exportClause && ts.isNamedExports(node.exportClause)) {
          for (const e of node.exportClause.elements) set.add((e.propertyName ?? e.name).text);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

const write = process.argv.includes('--write');
for (const unit of UNITS) {
  const index = path.join(root, unit, 'index.ts');
  const sf = program.getSourceFile(index);
  if (!sf) continue;
  const sym = checker.getSymbolAtLocation(sf);
  if (!sym) continue;
  const exported = checker.getExportsOfModule(sym);
  const names = used.get(index) ?? new Set<string>();
  const unused = exported.filter((e) => !names.has(e.name) && !names.has('*')).map((e) => e.name);
  process.stdout.write(`${unit}: ${exported.length} exported, ${exported.length - unused.length} used outside${unused.length ? `; unused: ${unused.join(', ')}` : ''}\n`);
  if (!write || !/export \* from/.test(sf.text)) continue;
  // Group the used names by the file that declares them, keeping type-only-ness.
  const byFile = new Map<string, string[]>();
  for (const e of exported) {
    if (!names.has(e.name)) continue;
    const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
    const decl = target.declarations?.[0];
    if (!decl) continue;
    const file = decl.getSourceFile().fileName;
    const isType = !(target.flags & (ts.SymbolFlags.Value));
    const rel = './' + path.relative(path.dirname(index), file).replace(/\.ts$/, '').replace(/\/index$/, '');
    const list = byFile.get(rel) ?? [];
    list.push(isType ? `type ${e.name}` : e.name);
    byFile.set(rel, list);
  }
  const header = /^\/\*\*[\s\S]*?\*\/\n/.exec(sf.text)?.[0] ?? '';
  const body = [...byFile.entries()].sort().map(([f, ns]) => `export { ${ns.sort((a, b) => a.replace('type ', '').localeCompare(b.replace('type ', ''))).join(', ')} } from '${f}';`).join('\n');
  fs.writeFileSync(index, `${header}${body}\n`);
}
