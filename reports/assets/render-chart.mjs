// Renders vega-lite specs to PNG: vega-lite → vega → SVG (vega's headless
// renderer) → PNG (@resvg/resvg-js). An ES module because vega is ESM-only (with
// top-level await). Imported in-process by reports/charts.ts; run as a child
// process (`node render-chart.mjs < specs.json`) where the caller cannot import
// ESM (jest's CommonJS sandbox). stdin: [{id, spec}]; stdout: [{id, png(base64), width, height}].
/* global Buffer, process, URL */
import { readFileSync } from 'node:fs';

export async function renderPngs(items) {
  const [vega, vl, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const out = [];
  for (const { id, spec } of items) {
    const compiled = vl.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 } }).render();
    out.push({ id, png: Buffer.from(png.asPng()).toString('base64'), width: png.width, height: png.height, svgBytes: svg.length });
  }
  return out;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const items = JSON.parse(readFileSync(0, 'utf8'));
  renderPngs(items).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (err) => { process.stderr.write(String(err && err.stack || err) + '\n'); process.exit(1); },
  );
}
