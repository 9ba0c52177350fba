/**
 * Just enough charting for the demo, on a plain 2D canvas: linear and log scales with
 * readable ticks, a framed plot area with grid lines and axis titles, points and lines.
 */

export const COLORS = {
  ink: '#1f2933',
  muted: '#616e7c',
  grid: '#e4e7eb',
  frame: '#cbd2d9',
  data: 'rgba(62, 124, 177, 0.55)',
  fit: '#e4572e',
  truth: '#7b8794',
  loss: '#2563eb',
  batchLoss: 'rgba(37, 99, 235, 0.22)',
  holdout: '#e4572e',
} as const;

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** A plot area in CSS pixels. */
export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface Tick {
  readonly value: number;
  readonly label: string;
}

/** Maps data values to pixels, and knows its ticks. */
export interface Scale {
  readonly domain: readonly [number, number];
  (value: number): number;
  ticks(): Tick[];
}

/** The canvas sized to its CSS box at the device's pixel ratio, cleared, in CSS pixels. */
export function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  const w = Math.max(1, Math.round(width * ratio));
  const h = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return { ctx, width, height };
}

/** The plot area inside a canvas of `width`×`height`, leaving room for ticks and titles. */
export function plotBox(width: number, height: number): Box {
  const left = 62;
  const top = 14;
  const right = 24;
  const bottom = 44;
  return { left, top, width: Math.max(10, width - left - right), height: Math.max(10, height - top - bottom) };
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

/** [lo, hi] widened to round values (so the axis starts and ends on a tick). */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  if (!(hi > lo)) return [lo - 1, hi + 1];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step];
}

/** Thousands separators for large values, few digits for small ones. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number], tickCount = 5): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const scale = ((v: number) => r0 + (v - d0) * k) as Scale;
  Object.assign(scale, {
    domain: [d0, d1] as const,
    ticks: () => niceTicks(d0, d1, tickCount).map((value) => ({ value, label: formatNumber(value) })),
  });
  return scale;
}

/** Log10 scale; ticks at every power of ten (with 2 and 5 in between when there are few). */
export function logScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const [r0, r1] = range;
  const k = l1 === l0 ? 0 : (r1 - r0) / (l1 - l0);
  const scale = ((v: number) => r0 + (Math.log10(Math.max(v, 1e-30)) - l0) * k) as Scale;
  Object.assign(scale, {
    domain: [d0, d1] as const,
    ticks: () => {
      const ticks: Tick[] = [];
      const decades = Math.ceil(l1 - 1e-9) - Math.floor(l0 + 1e-9);
      const multiples = decades <= 2 ? [1, 2, 5] : [1];
      for (let p = Math.floor(l0 + 1e-9); p <= Math.ceil(l1 - 1e-9); p++) {
        for (const m of multiples) {
          const value = m * 10 ** p;
          if (value >= d0 * (1 - 1e-9) && value <= d1 * (1 + 1e-9)) ticks.push({ value, label: formatPower(m, p) });
        }
      }
      return ticks;
    },
  });
  return scale;
}

function formatPower(m: number, p: number): string {
  if (p >= -2 && p <= 3) return String(Number((m * 10 ** p).toPrecision(2)));
  return `${m === 1 ? '' : `${m}·`}1e${p}`;
}

/** Powers of ten enclosing [lo, hi] (at least one decade). */
export function decadeDomain(lo: number, hi: number): [number, number] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.max(a + 1, Math.ceil(Math.log10(hi)));
  return [10 ** a, 10 ** b];
}

/** Grid lines, tick labels, the frame, and axis titles. */
export function drawAxes(ctx: CanvasRenderingContext2D, box: Box, x: Scale, y: Scale, titles: { x: string; y: string }): void {
  const { left, top, width, height } = box;
  const bottom = top + height;
  ctx.save();
  ctx.lineWidth = 1;
  ctx.strokeStyle = COLORS.grid;
  ctx.fillStyle = COLORS.muted;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of x.ticks()) {
    const px = Math.round(x(t.value)) + 0.5;
    line(ctx, px, top, px, bottom);
    ctx.fillText(t.label, px, bottom + 6);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of y.ticks()) {
    const py = Math.round(y(t.value)) + 0.5;
    line(ctx, left, py, left + width, py);
    ctx.fillText(t.label, left - 6, py);
  }
  ctx.strokeStyle = COLORS.frame;
  ctx.strokeRect(left + 0.5, top + 0.5, width, height);
  ctx.fillStyle = COLORS.ink;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(titles.x, left + width / 2, bottom + 40);
  ctx.translate(14, top + height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'middle';
  ctx.fillText(titles.y, 0, 0);
  ctx.restore();
}

function line(ctx: CanvasRenderingContext2D, x0: number, y0: number, x1: number, y1: number): void {
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

/** Draws inside `box` only. */
export function clipTo(ctx: CanvasRenderingContext2D, box: Box): void {
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.width, box.height);
  ctx.clip();
}

export function points(ctx: CanvasRenderingContext2D, xs: ArrayLike<number>, ys: ArrayLike<number>, x: Scale, y: Scale, color: string, radius = 2.5): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const px = x(xs[i]);
    const py = y(ys[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    ctx.moveTo(px + radius, py);
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
  }
  ctx.fill();
}

export function polyline(
  ctx: CanvasRenderingContext2D,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  x: Scale,
  y: Scale,
  color: string,
  options: { width?: number; dash?: number[] } = {},
): void {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = options.width ?? 2;
  ctx.lineJoin = 'round';
  ctx.setLineDash(options.dash ?? []);
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const px = x(xs[i]);
    const py = y(ys[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(px, py);
    else ctx.moveTo(px, py);
    pen = true;
  }
  ctx.stroke();
  ctx.restore();
}

/** A small legend in a top corner of the plot: a swatch and a label per entry. */
export function legend(
  ctx: CanvasRenderingContext2D,
  box: Box,
  entries: { label: string; color: string; kind: 'line' | 'dot' | 'dash' }[],
  corner: 'left' | 'right' = 'right',
): void {
  ctx.save();
  ctx.font = FONT;
  const rowHeight = 18;
  const textWidth = Math.max(...entries.map((e) => ctx.measureText(e.label).width));
  const width = textWidth + 40;
  const height = entries.length * rowHeight + 8;
  const left = corner === 'left' ? box.left + 8 : box.left + box.width - width - 8;
  const top = box.top + 8;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.9)';
  ctx.strokeStyle = COLORS.grid;
  ctx.fillRect(left, top, width, height);
  ctx.strokeRect(left + 0.5, top + 0.5, width, height);
  entries.forEach((e, i) => {
    const cy = top + 4 + rowHeight * i + rowHeight / 2;
    ctx.strokeStyle = e.color;
    ctx.fillStyle = e.color;
    ctx.lineWidth = 2;
    if (e.kind === 'dot') {
      ctx.beginPath();
      ctx.arc(left + 18, cy, 3, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.setLineDash(e.kind === 'dash' ? [5, 4] : []);
      line(ctx, left + 8, cy, left + 28, cy);
      ctx.setLineDash([]);
    }
    ctx.fillStyle = COLORS.ink;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    ctx.fillText(e.label, left + 34, cy);
  });
  ctx.restore();
}

/** A centred message in an empty plot. */
export function placeholder(ctx: CanvasRenderingContext2D, box: Box, text: string): void {
  ctx.save();
  ctx.fillStyle = COLORS.muted;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, box.left + box.width / 2, box.top + box.height / 2);
  ctx.restore();
}
