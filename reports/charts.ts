/**
 * Charts as PNG for mail clients (which do not run scripts or render SVG
 * reliably): vega-lite specs built here, rendered by reports/assets/render-chart.mjs.
 *
 * vega and vega-lite are ESM-only (vega even uses top-level await, so Node's
 * require(esm) refuses it). The build is `module: node16`, so the
 * `await import(...)` below stays a real import() in the emitted CommonJS and
 * loads the renderer in-process. Where import() is unavailable (jest's CJS
 * sandbox rewrites it into require), the same renderer runs in a child node
 * process: same code, same output.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditkitError, KIT_ROOT } from '../core';
import { SEVERITIES_DESC } from '../schema';
import type { ReportData } from './data';
import type { ReportLocale } from './config';
import { translator } from './i18n';

export interface ChartImage {
  readonly id: string;
  /** Content-ID for the mail (without angle brackets). */
  readonly cid: string;
  readonly filename: string;
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  readonly alt: string;
}

export interface ChartSpec {
  readonly id: string;
  readonly alt: string;
  readonly spec: Record<string, unknown>;
}

export const SEVERITY_COLOURS: Readonly<Record<string, string>> = { critical: '#7b1fa2', high: '#d32f2f', medium: '#f57c00', low: '#1976d2' };
const FONT = 'WenQuanYi Micro Hei, Noto Sans CJK SC, DejaVu Sans, sans-serif';

export function chartSpecs(data: ReportData, locale: ReportLocale): ChartSpec[] {
  const t = translator(locale);
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 520, height: 180, background: '#ffffff', config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' } } };
  const events = data.daily.flatMap((d) => [
    { day: d.day.slice(5), kind: t('commands'), n: d.commands },
    { day: d.day.slice(5), kind: 'auditd', n: d.auditd },
  ]);
  const alerts = data.daily.flatMap((d) => SEVERITIES_DESC.map((s) => ({ day: d.day.slice(5), severity: t(s), order: SEVERITIES_DESC.indexOf(s), n: d.alerts[s] })));
  return [
    {
      id: 'events', alt: t('chart_events'),
      spec: {
        ...base, title: t('chart_events'), data: { values: events }, mark: { type: 'bar' },
        encoding: {
          x: { field: 'day', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
          y: { field: 'n', type: 'quantitative', title: null, stack: 'zero' },
          color: { field: 'kind', type: 'nominal', title: null, scale: { range: ['#1565c0', '#90caf9'] } },
        },
      },
    },
    {
      id: 'alerts', alt: t('chart_alerts'),
      spec: {
        ...base, title: t('chart_alerts'), data: { values: alerts }, mark: { type: 'bar' },
        encoding: {
          x: { field: 'day', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
          y: { field: 'n', type: 'quantitative', title: null, stack: 'zero', axis: { tickMinStep: 1 } },
          color: { field: 'severity', type: 'nominal', title: null, sort: SEVERITIES_DESC.map((s) => t(s)), scale: { domain: SEVERITIES_DESC.map((s) => t(s)), range: SEVERITIES_DESC.map((s) => SEVERITY_COLOURS[s]) } },
          order: { field: 'order', type: 'quantitative' },
        },
      },
    },
  ];
}

type RenderOut = Array<{ id: string; png: string; width: number; height: number }>;
type RendererModule = { renderPngs(items: Array<{ id: string; spec: Record<string, unknown> }>): Promise<RenderOut> };

export const CHART_RENDERER = path.join(KIT_ROOT, 'reports', 'assets', 'render-chart.mjs');

function renderInChild(items: Array<{ id: string; spec: Record<string, unknown> }>): Promise<RenderOut> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHART_RENDERER], { stdio: ['pipe', 'pipe', 'pipe'], cwd: KIT_ROOT });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`chart renderer exited with ${code}: ${Buffer.concat(err).toString().slice(0, 500)}`));
      else resolve(JSON.parse(Buffer.concat(out).toString()) as RenderOut);
    });
    child.stdin.end(JSON.stringify(items));
  });
}

/** How charts were rendered in this process (for tests and `--verbose`). */
export let lastChartMode: 'import' | 'child' | undefined;

export async function renderCharts(specs: readonly ChartSpec[]): Promise<ChartImage[]> {
  const items = specs.map((s) => ({ id: s.id, spec: s.spec }));
  let rendered: RenderOut;
  try {
    let mod: RendererModule;
    try {
      mod = (await import(pathToFileURL(CHART_RENDERER).href)) as RendererModule;
      lastChartMode = 'import';
    } catch {
      mod = { renderPngs: renderInChild };
      lastChartMode = 'child';
    }
    rendered = await mod.renderPngs(items);
  } catch (err) {
    throw new AuditkitError('AK_REPORT_CHART', `could not render the report charts with vega: ${(err as Error).message}`, { cause: err });
  }
  return rendered.map((r) => {
    const spec = specs.find((s) => s.id === r.id);
    return { id: r.id, cid: `chart-${r.id}@auditkit`, filename: `${r.id}.png`, png: Buffer.from(r.png, 'base64'), width: r.width, height: r.height, alt: spec?.alt ?? r.id };
  });
}
