/**
 * A small SVG scatter plot with a fitted curve, for the kink sample's picture (house
 * prices against size, with the ReLU fit). Plain SVG text, no dependencies.
 */

export interface PlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly (readonly [number, number])[];
  /** The fitted function, drawn over the x range of the points. */
  readonly curve: (x: number) => number;
  /** Optional vertical marker, e.g. the true kink. */
  readonly marker?: { readonly x: number; readonly label: string };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function scatterSvg(o: PlotOptions, width = 640, height = 420): string {
  const pad = { left: 64, right: 20, top: 36, bottom: 48 };
  const xs = o.points.map((p) => p[0]);
  const ys = o.points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const samples = Array.from({ length: 200 }, (_, i) => x0 + ((x1 - x0) * i) / 199);
  const fitted = samples.map(o.curve);
  const [y0, y1] = [Math.min(0, ...ys, ...fitted), Math.max(...ys, ...fitted)];
  const px = (x: number) => pad.left + ((x - x0) / (x1 - x0 || 1)) * (width - pad.left - pad.right);
  const py = (y: number) => height - pad.bottom - ((y - y0) / (y1 - y0 || 1)) * (height - pad.top - pad.bottom);
  const ticks = (lo: number, hi: number) => Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5);
  const dots = o.points.map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.6" fill="#4a7ab5" fill-opacity="0.55"/>`);
  const line = samples.map((x, i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(fitted[i]).toFixed(1)}`).join('');
  const xTicks = ticks(x0, x1).map((x) => `<text x="${px(x).toFixed(1)}" y="${height - pad.bottom + 18}" text-anchor="middle">${Math.round(x)}</text>`);
  const yTicks = ticks(y0, y1).map((y) => `<text x="${pad.left - 8}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${Math.round(y)}</text>`);
  const marker = o.marker
    ? `<line x1="${px(o.marker.x)}" x2="${px(o.marker.x)}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#999" stroke-dasharray="4 4"/><text x="${px(o.marker.x) + 6}" y="${pad.top + 14}" fill="#666">${esc(o.marker.label)}</text>`
    : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
    `<line x1="${pad.left}" x2="${width - pad.right}" y1="${height - pad.bottom}" y2="${height - pad.bottom}" stroke="#333"/>`,
    `<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#333"/>`,
    ...xTicks, ...yTicks, marker, ...dots,
    `<path d="${line}" fill="none" stroke="#d9480f" stroke-width="2.5"/>`,
    `<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
