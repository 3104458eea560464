// Draws bench/results/chart.svg from a run's JSON (bench/results/raw/latest.json by default):
// hand-written SVG, no dependencies.
//   node bench/reporting/chart.ts [results.json] [chart.svg]

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawDir, resultsDir } from '../harness/paths.ts';
import type { EndToEndSummary } from '../suites/end-to-end-summary.ts';
import { shortLabel as label } from './labels.ts';
import type { BenchResults } from './results.ts';

const OURS = '#1d4aff';
/** Ours with gzip: the same hue, lighter, so the two rows of ours read as one family. */
const OURS_GZIP = '#8fa5ff';
const OTHER = '#9aa4b5';
const FLOOR = '#2f9e6e';
/** Reference rows that are no alternative (the SDK with a no-op exporter). */
const REFERENCE = '#d5d9e0';
const GOAL = '#e0452b';
const INK = '#1f2430';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';

interface Bar {
  label: string;
  value: number;
  color: string;
  text: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colorOf = (c: string) =>
  c === 'ours'
    ? OURS
    : c === 'ours-gzip' || c === 'ours-before-send'
      ? OURS_GZIP
      : c === 'floor'
        ? FLOOR
        : c === 'stock-noop' || c === 'bound'
          ? REFERENCE
          : OTHER;
const num = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(s)}</text>`;
}

/** A panel of horizontal bars, with an optional vertical goal line. */
function barPanel(
  x: number,
  y: number,
  w: number,
  h: number,
  title: string,
  subtitle: string,
  bars: Bar[],
  goal?: { value: number; label: string },
): string {
  const parts: string[] = [`<g transform="translate(${x},${y})">`];
  parts.push(text(0, 16, title, `font-size="14" font-weight="600" fill="${INK}"`));
  parts.push(text(0, 33, subtitle, `font-size="11" fill="${MUTED}"`));
  const labelW = 175;
  const top = 48;
  const plotW = w - labelW - 70;
  const rowH = Math.min(30, (h - top - 10) / Math.max(1, bars.length));
  const maxValue = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), goal?.value ?? 0) || 1;
  const sx = (v: number) => labelW + (Math.max(0, v) / maxValue) * plotW;
  bars.forEach((b, i) => {
    const by = top + i * rowH;
    parts.push(text(labelW - 8, by + rowH * 0.62, b.label, `font-size="11" text-anchor="end" fill="${INK}"`));
    const bw = Number.isFinite(b.value) ? sx(b.value) - labelW : 0;
    parts.push(
      `<rect x="${labelW}" y="${(by + rowH * 0.15).toFixed(1)}" width="${Math.max(1, bw).toFixed(1)}" height="${(rowH * 0.7).toFixed(1)}" rx="2" fill="${b.color}"/>`,
    );
    parts.push(text(labelW + bw + 6, by + rowH * 0.62, b.text, `font-size="11" fill="${INK}"`));
  });
  if (goal) {
    const gx = sx(goal.value);
    const bottom = top + bars.length * rowH;
    parts.push(
      `<line x1="${gx.toFixed(1)}" y1="${top - 4}" x2="${gx.toFixed(1)}" y2="${bottom.toFixed(1)}" stroke="${GOAL}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
    parts.push(text(gx, bottom + 13, goal.label, `font-size="10" text-anchor="middle" fill="${GOAL}"`));
  }
  parts.push('</g>');
  return parts.join('\n');
}

/** Memory over time during the outage scenario, outage shaded. */
function memoryPanel(x: number, y: number, w: number, h: number, r: NonNullable<BenchResults['outage']>): string {
  const parts: string[] = [`<g transform="translate(${x},${y})">`];
  parts.push(
    text(0, 16, `5. Memory, ${r.outageSeconds} s outage (503), ${num(r.rate)} records/s`, `font-size="14" font-weight="600" fill="${INK}"`),
  );
  const drain = r.drainMs === undefined ? 'did not drain' : `drained ${num(r.drainMs / 1000, 1)} s after recovery`;
  parts.push(
    text(
      0,
      33,
      `ours, default settings; ${drain}; ${num(r.statsFinal.delivered)} of ${num(r.emitted)} delivered`,
      `font-size="11" fill="${MUTED}"`,
    ),
  );
  const left = 44;
  const top = 48;
  const plotW = w - left - 50;
  const plotH = h - top - 34;
  const samples = r.samples;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const mMax = Math.max(1, ...samples.map((s) => s.rssMiB)) * 1.1;
  const sx = (t: number) => left + (t / tMax) * plotW;
  const sy = (v: number) => top + plotH - (v / mMax) * plotH;
  const outage = samples.filter((s) => s.phase === 'outage');
  if (outage.length > 0) {
    const a = sx(r.warmSeconds);
    const b = sx(r.warmSeconds + r.outageSeconds);
    parts.push(`<rect x="${a.toFixed(1)}" y="${top}" width="${(b - a).toFixed(1)}" height="${plotH}" fill="#fde8e4"/>`);
    parts.push(text((a + b) / 2, top + 14, 'sink answers 503', `font-size="10" text-anchor="middle" fill="${GOAL}"`));
  }
  for (let i = 0; i <= 4; i++) {
    const v = (mMax / 4) * i;
    parts.push(`<line x1="${left}" y1="${sy(v).toFixed(1)}" x2="${left + plotW}" y2="${sy(v).toFixed(1)}" stroke="${GRID}"/>`);
    parts.push(text(left - 6, sy(v) + 4, num(v), `font-size="10" text-anchor="end" fill="${MUTED}"`));
  }
  const tStep = tMax > 40 ? 10 : tMax > 10 ? 5 : 1;
  for (let t = 0; t <= tMax; t += tStep)
    parts.push(text(sx(t), top + plotH + 14, `${t}s`, `font-size="10" text-anchor="middle" fill="${MUTED}"`));
  const line = (key: 'heapUsedMiB' | 'rssMiB', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${samples.map((s) => `${sx(s.t).toFixed(1)},${sy(s[key]).toFixed(1)}`).join(' ')}"/>`;
  parts.push(line('rssMiB', OTHER));
  parts.push(line('heapUsedMiB', OURS));
  // Pending events (queued, buffered for retry, in flight) on their own scale, right axis.
  const pMax = Math.max(1, ...samples.map((s) => s.pending)) * 1.1;
  const py = (v: number) => top + plotH - (v / pMax) * plotH;
  parts.push(
    `<polyline fill="none" stroke="${FLOOR}" stroke-width="1.4" stroke-dasharray="4 2" points="${samples.map((s) => `${sx(s.t).toFixed(1)},${py(s.pending).toFixed(1)}`).join(' ')}"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const v = (pMax / 4) * i;
    parts.push(text(left + plotW + 4, py(v) + 4, num(v), `font-size="10" fill="${FLOOR}"`));
  }
  parts.push(text(left + 4, top + plotH + 28, 'MiB over time —', `font-size="10" fill="${MUTED}"`));
  parts.push(`<rect x="${left + 84}" y="${top + plotH + 20}" width="12" height="3" fill="${OURS}"/>`);
  parts.push(text(left + 100, top + plotH + 28, 'heapUsed', `font-size="10" fill="${INK}"`));
  parts.push(`<rect x="${left + 152}" y="${top + plotH + 20}" width="12" height="3" fill="${OTHER}"/>`);
  parts.push(text(left + 168, top + plotH + 28, 'rss', `font-size="10" fill="${INK}"`));
  parts.push(`<rect x="${left + 192}" y="${top + plotH + 20}" width="12" height="3" fill="${FLOOR}"/>`);
  parts.push(text(left + 208, top + plotH + 28, 'pending events (right axis)', `font-size="10" fill="${INK}"`));
  parts.push('</g>');
  return parts.join('\n');
}

/** Records/s and CPU per record of scenario 1 or 6, each with its goal against OTLP http/protobuf. */
function endToEndPanels(
  scenario: string,
  t: EndToEndSummary,
  goals: { throughput: number; cpu: number },
  meta: BenchResults['meta'],
  left: { x: number; y: number },
  right: { x: number; y: number },
  panelW: number,
): { svg: string; height: number } {
  // The SDK-only row sends nothing: it is no alternative, and at five times the others' rate it
  // would flatten their bars. It stays in the CPU panel, in a colour of its own.
  const entries = Object.entries(t.perContender).filter(([c]) => c !== 'stock-noop');
  const cpuEntries = Object.entries(t.perContender);
  const height = 48 + cpuEntries.length * 30 + 24;
  const proto = t.perContender['otlp-proto'];
  const svg = [
    barPanel(
      left.x,
      left.y,
      panelW,
      height,
      `${scenario}: records/s (higher is better)`,
      `${num(meta.records)} records, median of ${meta.runs} runs; ours = ${num(t.ratios['oursVs_otlp-proto_throughput'] ?? Number.NaN, 2)}× OTLP http/protobuf`,
      entries.map(([c, s]) => ({ label: label(c), value: s.recordsPerSec, color: colorOf(c), text: num(s.recordsPerSec) })),
      proto === undefined ? undefined : { value: proto.recordsPerSec * goals.throughput, label: `goal ${goals.throughput} × OTLP proto` },
    ),
    barPanel(
      right.x,
      right.y,
      panelW,
      height,
      `${scenario}: CPU per record (µs, lower is better)`,
      `all threads; ours = ${num(t.ratios['oursVs_otlp-proto_cpu'] ?? Number.NaN, 2)}× OTLP http/protobuf's`,
      cpuEntries.map(([c, s]) => ({
        label: c === 'stock-noop' ? 'SDK alone (no-op export)' : label(c),
        value: s.cpuMicrosPerRecord,
        color: colorOf(c),
        text: num(s.cpuMicrosPerRecord, 1),
      })),
      proto === undefined ? undefined : { value: proto.cpuMicrosPerRecord * goals.cpu, label: `goal ${goals.cpu} × OTLP proto` },
    ),
  ].join('\n');
  return { svg, height };
}

export function renderChart(r: BenchResults): string {
  const W = 1000;
  const panelW = 480;
  const panelH = 230;
  const panels: string[] = [];
  let y = 60;
  /** Rows of bar panels are as tall as their longest list of bars needs. */
  const barsHeight = (n: number) => 48 + n * 30 + 24;
  const place = (col: number) => ({ x: 10 + col * (panelW + 20), y });
  const nextRow = (height: number) => {
    y += height + 20;
  };

  for (const [scenario, t, goals] of [
    ['1. Steady', r.steady, { throughput: 1.15, cpu: 0.85 }],
    ['6. Burst', r.burst, { throughput: 1.05, cpu: 1 }],
  ] as const) {
    if (!t) continue;
    const h = endToEndPanels(scenario, t, goals, r.meta, place(0), place(1), panelW);
    panels.push(h.svg);
    nextRow(h.height);
  }
  const e = r.emitCost;
  const s = r.spanCost;
  if (e || s) {
    const h = barsHeight(Math.max(Object.keys(e?.perContender ?? {}).length, Object.keys(s?.perContender ?? {}).length));
    if (e) {
      const p = place(0);
      const stock = e.perContender['stock-noop']?.nsPerEmit;
      panels.push(
        barPanel(
          p.x,
          p.y,
          panelW,
          h,
          '2. logger.emit() hot path (ns per emit)',
          `ours = ${num(e.ratios.oursVsStock, 2)}× stock BatchLogRecordProcessor (goal ≤ 1.1×)`,
          Object.entries(e.perContender).map(([c, x]) => ({
            label: label(c),
            value: x.nsPerEmit,
            color: colorOf(c),
            text: num(x.nsPerEmit),
          })),
          stock === undefined ? undefined : { value: stock * 1.1, label: '1.1 × stock' },
        ),
      );
    }
    if (s) {
      const p = place(1);
      panels.push(
        barPanel(
          p.x,
          p.y,
          panelW,
          h,
          '3. Span with 3 events: start → end (ns per span)',
          `onEnd adds ${num(s.ratios.onEndNsPerSpan)} ns per span (${num(s.ratios.oursVsNone, 2)}×)`,
          Object.entries(s.perContender).map(([c, x]) => ({
            label: label(c),
            value: x.nsPerSpan,
            color: colorOf(c),
            text: num(x.nsPerSpan),
          })),
        ),
      );
    }
    nextRow(h);
  }
  const l = r.loopDelay;
  const o = r.outage;
  if (l || o) {
    let h = o ? panelH : 0;
    if (l) {
      const p = place(0);
      const bars: Bar[] = [];
      for (const [c, x] of Object.entries(l.perContender)) {
        bars.push({ label: `${label(c)}: steady`, value: x.steadyP99Ms, color: colorOf(c), text: `${num(x.steadyP99Ms, 2)} ms` });
        if (x.backlogP99Ms !== undefined)
          bars.push({ label: `${label(c)}: backlog`, value: x.backlogP99Ms, color: colorOf(c), text: `${num(x.backlogP99Ms, 2)} ms` });
      }
      h = Math.max(h, barsHeight(bars.length));
      const goalRow = l.perContender['ours-gzip'] ? '; goal row: ours with gzip' : '';
      panels.push(
        barPanel(
          p.x,
          p.y,
          panelW,
          h,
          '4. p99 event-loop delay while exporting (ms)',
          `steady ${num(r.meta.steadyRate)} records/s, and a backlog of ${num(r.meta.records)} flushed${goalRow}`,
          bars,
          { value: 5, label: 'goal 5 ms' },
        ),
      );
    }
    if (o) {
      const p = place(1);
      panels.push(memoryPanel(p.x, p.y, panelW, panelH, o));
    }
    nextRow(h);
  }
  const H = y + 10;
  const m = r.meta;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    text(10, 24, 'opentelemetry-exporter-posthog benchmarks', `font-size="18" font-weight="700" fill="${INK}"`),
    text(
      10,
      44,
      `Node ${m.node} · ${m.cpu} × ${m.cores} · ${m.quick ? 'quick' : 'full'} run · ${m.date.slice(0, 10)}`,
      `font-size="12" fill="${MUTED}"`,
    ),
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

export function writeChart(jsonPath: string, svgPath: string): string {
  const results = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchResults;
  writeFileSync(svgPath, renderChart(results));
  return svgPath;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = process.argv[2] ?? join(rawDir, 'latest.json');
  const svg = process.argv[3] ?? join(resultsDir, 'chart.svg');
  console.log(writeChart(json, svg));
}
