// Lint rule: the unit walls and the layer order of DESIGN.md.
//
// Each top-level folder is a unit. Another unit may be imported only through its
// public faces: `index.ts`, and `config.ts` (the unit's config schema, which the CLI's
// config assembler needs without loading the unit's runtime: the collector must not
// carry the report renderer or the deploy client just to validate its file).
// Dependencies point one way, down the layers below; a unit never imports a unit of
// its own layer or above. test/ and bench/ sit above everything but still go through
// the faces.
import path from 'node:path';

export const LAYERS = {
  cli: 6,
  // The bastion ships its sessions and commands through the collector pipeline
  // (spool, exactly-once, dead letters), so it sits above collectors, beside the demo.
  demo: 5, bastion: 5,
  collectors: 4, deploy: 4,
  rules: 3, reports: 3, dashboards: 3, fleet: 3,
  elastic: 2,
  schema: 1,
  // core is the floor: kit-wide plumbing (errors and their catalogue, logging, config
  // loading, files) with no domain of its own, so schema can throw kit errors.
  core: 0,
};
const ABOVE_ALL = new Set(['test', 'bench', 'tools']);
const FACES = new Set(['', 'index', 'index.ts', 'index.js', 'config', 'config.ts', 'config.js']);

function unitOf(root, file) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first] = rel.split(path.sep);
  return first;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'units are imported through their index.ts (or config.ts), down the layers only' },
    schema: [],
    messages: {
      inner: "'{{spec}}' reaches into {{target}}/{{inner}}: import {{target}} through its index.ts (export what you need there)",
      layer: "{{source}} (layer {{sl}}) may not import {{target}} (layer {{tl}}): dependencies point down (cli → demo/bastion → collectors/deploy → rules/reports/dashboards/fleet → elastic → schema → core)",
      unknown: "{{target}} is not a known unit: add it to LAYERS in tools/eslint-unit-walls.mjs",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = context.filename ?? context.getFilename();
    const source = unitOf(root, file);
    if (!source || (!(source in LAYERS) && !ABOVE_ALL.has(source))) return {};
    function check(node, spec) {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const abs = path.resolve(path.dirname(file), spec);
      const target = unitOf(root, abs);
      if (!target || target === source) return;
      if (!(target in LAYERS)) {
        if (!ABOVE_ALL.has(target)) context.report({ node, messageId: 'unknown', data: { target } });
        return;
      }
      const inner = path.relative(path.join(root, target), abs);
      if (!FACES.has(inner)) {
        context.report({ node, messageId: 'inner', data: { spec, target, inner } });
        return;
      }
      if (!ABOVE_ALL.has(source) && LAYERS[source] <= LAYERS[target]) {
        context.report({ node, messageId: 'layer', data: { source, target, sl: LAYERS[source], tl: LAYERS[target] } });
      }
    }
    const literal = (n) => (n && n.type === 'Literal' ? n.value : n && n.type === 'TemplateLiteral' && n.expressions.length === 0 ? n.quasis[0].value.cooked : undefined);
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ImportExpression: (n) => check(n, literal(n.source)),
      TSImportType: (n) => check(n, literal(n.argument?.literal ?? n.argument) ?? n.source?.value),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments.length === 1) check(n, literal(n.arguments[0]));
      },
    };
  },
};

export default { rules: { 'unit-walls': rule } };
