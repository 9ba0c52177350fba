/**
 * The two networks the page trains, each compiled once per batch size it offers: the
 * `?gradc` import is the generated JS module, `?gradc-wasm` the WebAssembly module (the same
 * API, kernels in SIMD), `?gradc-gpu` the WebGPU host module, all produced by the gradc
 * esbuild plugin while the page is bundled. Also their data, and how to draw what each has
 * learned.
 */
/// <reference path="../../compiler/bundler/modules.d.ts" />
import { predict, type Dataset, type Tensors } from '../../runtime/cpu/index.ts';
import { housingData } from '../housing/data.ts';
import { KINK_TRUTH, kinkData, toOriginalUnits } from '../kink/data.ts';
import * as kink16 from '../kink/kink.graph.ts?gradc';
import * as kink16Wasm from '../kink/kink.graph.ts?gradc-wasm';
import * as kink16Gpu from '../kink/kink.graph.ts?gradc-gpu';
import * as housing64 from '../housing/housing.graph.ts?gradc';
import * as housing64Wasm from '../housing/housing.graph.ts?gradc-wasm';
import * as housing64Gpu from '../housing/housing.graph.ts?gradc-gpu';
import * as kink4 from './graphs/kink-4.graph.ts?gradc';
import * as kink4Wasm from './graphs/kink-4.graph.ts?gradc-wasm';
import * as kink4Gpu from './graphs/kink-4.graph.ts?gradc-gpu';
import * as kink64 from './graphs/kink-64.graph.ts?gradc';
import * as kink64Wasm from './graphs/kink-64.graph.ts?gradc-wasm';
import * as kink64Gpu from './graphs/kink-64.graph.ts?gradc-gpu';
import * as kink256 from './graphs/kink-256.graph.ts?gradc';
import * as kink256Wasm from './graphs/kink-256.graph.ts?gradc-wasm';
import * as kink256Gpu from './graphs/kink-256.graph.ts?gradc-gpu';
import * as housing16 from './graphs/housing-16.graph.ts?gradc';
import * as housing16Wasm from './graphs/housing-16.graph.ts?gradc-wasm';
import * as housing16Gpu from './graphs/housing-16.graph.ts?gradc-gpu';
import * as housing256 from './graphs/housing-256.graph.ts?gradc';
import * as housing256Wasm from './graphs/housing-256.graph.ts?gradc-wasm';
import * as housing256Gpu from './graphs/housing-256.graph.ts?gradc-gpu';
import { COLORS, clipTo, drawAxes, legend, linearScale, niceDomain, plotBox, points, polyline, prepare } from './plot.ts';

export type JsModule = typeof kink16;
export type GpuModule = typeof kink16Gpu;

/** One compiled graph: its batch size (static in its shapes) and every backend's module. */
export interface Variant {
  readonly batch: number;
  /** The graph file the modules were compiled from, as main.ts imports it (for the footer). */
  readonly source: string;
  readonly js: JsModule;
  /** The WebAssembly module: the JS module's API. */
  readonly wasm: JsModule;
  readonly gpu: GpuModule;
}

export type DemoId = 'kink' | 'housing';

export interface Demo {
  readonly id: DemoId;
  readonly label: string;
  /** A sentence or two under the model picker. */
  readonly about: string;
  /** Sorted by batch size. */
  readonly variants: readonly Variant[];
  readonly defaults: { readonly batch: number; readonly learningRate: number; readonly stepsPerFrame: number };
  /** The rows SGD draws its mini-batches from. */
  readonly train: Dataset;
  /** Rows never trained on, whose loss is plotted too. */
  readonly holdout?: Dataset;
  readonly fitTitle: string;
  /** Draws the data and what the network computes with `params`; returns a caption. */
  drawFit(canvas: HTMLCanvasElement, variant: Variant, params: Tensors): string;
}

const variant = (source: string, js: JsModule, wasm: JsModule, gpu: GpuModule): Variant => ({ batch: js.meta.inputs.x[0], source, js, wasm, gpu });
const bySize = (variants: Variant[]): Variant[] => variants.sort((a, b) => a.batch - b.batch);

function extent(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  return [lo, hi];
}

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : '—');

function kinkDemo(): Demo {
  const data = kinkData(256, 1);
  const { x, y } = data.dataset.inputs;
  const sizes = Float32Array.from(x, (v) => v * data.sizeStd + data.sizeMean);
  const prices = Float32Array.from(y, (v) => v * data.priceScale);
  // The fitted function is drawn through the compiled graph's own forward, on a fine grid.
  const grid = new Float32Array(256);
  const xDomain = niceDomain(...extent(sizes));
  for (let i = 0; i < grid.length; i++) grid[i] = xDomain[0] + ((xDomain[1] - xDomain[0]) * i) / (grid.length - 1);
  const gridInputs: Dataset = { inputs: { x: Float32Array.from(grid, (s) => (s - data.sizeMean) / data.sizeStd) }, count: grid.length };
  const truth = Float32Array.from(grid, (s) => Math.max(0, KINK_TRUTH.slope * (s - KINK_TRUTH.kinkSize)));
  const [pLo, pHi] = extent(prices);
  const yDomain = niceDomain(Math.min(pLo, 0), pHi);
  return {
    id: 'kink',
    label: 'Single neuron: the kink',
    about: 'price = ReLU(w · size + b): one neuron learns the size below which a house is worth nothing. 256 synthetic houses.',
    variants: bySize([
      variant('./graphs/kink-4.graph.ts', kink4, kink4Wasm, kink4Gpu), variant('../kink/kink.graph.ts', kink16, kink16Wasm, kink16Gpu),
      variant('./graphs/kink-64.graph.ts', kink64, kink64Wasm, kink64Gpu), variant('./graphs/kink-256.graph.ts', kink256, kink256Wasm, kink256Gpu),
    ]),
    defaults: { batch: 16, learningRate: 0.1, stepsPerFrame: 2 },
    train: data.dataset,
    fitTitle: 'Price vs size, with the learned ReLU',
    drawFit(canvas, v, params) {
      const { ctx, width, height } = prepare(canvas);
      const box = plotBox(width, height);
      const xs = linearScale(xDomain, [box.left, box.left + box.width]);
      const ys = linearScale(yDomain, [box.top + box.height, box.top]);
      drawAxes(ctx, box, xs, ys, { x: 'size (sq ft)', y: 'price ($1000s)' });
      const fitted = predict(v.js, params, gridInputs, 'price').map((p) => p * data.priceScale);
      ctx.save();
      clipTo(ctx, box);
      points(ctx, sizes, prices, xs, ys, COLORS.data);
      polyline(ctx, grid, truth, xs, ys, COLORS.truth, { width: 1.5, dash: [6, 5] });
      polyline(ctx, grid, fitted, xs, ys, COLORS.fit, { width: 2.5 });
      const w = params.w[0];
      const b = params.b[0];
      const fit = toOriginalUnits(data, w, b);
      if (w > 0 && fit.kinkSize > xDomain[0] && fit.kinkSize < xDomain[1]) {
        ctx.fillStyle = COLORS.fit;
        ctx.beginPath();
        ctx.arc(xs(fit.kinkSize), ys(0), 4.5, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
      legend(ctx, box, [
        { label: 'houses', color: COLORS.data, kind: 'dot' },
        { label: 'learned ReLU(w·size + b)', color: COLORS.fit, kind: 'line' },
        { label: 'true price curve', color: COLORS.truth, kind: 'dash' },
      ], 'left');
      const truthText = `truth: ${KINK_TRUTH.slope} $k/sq ft above ${KINK_TRUTH.kinkSize.toLocaleString('en-US')} sq ft`;
      if (!(w > 0)) return `w = ${fmt(w)}, b = ${fmt(b)}: the neuron is still flat · ${truthText}`;
      return `learned: ${fmt(fit.slope)} $k/sq ft above ${Math.round(fit.kinkSize).toLocaleString('en-US')} sq ft · ${truthText}`;
    },
  };
}

function housingDemo(): Demo {
  const data = housingData(1280, 0.2, 2);
  const actual = Float32Array.from(data.holdout.inputs.y, (v) => v * data.priceStd + data.priceMean);
  const domain = niceDomain(...extent(actual));
  return {
    id: 'housing',
    label: 'Two-layer network: 4 → 3 → 1',
    about: 'Size, bedrooms, the zip code’s walkability and wealth → 3 ReLU units → price. 1,024 houses to train on, 256 held out.',
    variants: bySize([
      variant('./graphs/housing-16.graph.ts', housing16, housing16Wasm, housing16Gpu), variant('../housing/housing.graph.ts', housing64, housing64Wasm, housing64Gpu),
      variant('./graphs/housing-256.graph.ts', housing256, housing256Wasm, housing256Gpu),
    ]),
    defaults: { batch: 64, learningRate: 0.05, stepsPerFrame: 8 },
    train: data.train,
    holdout: data.holdout,
    fitTitle: 'Held-out houses: predicted vs actual price',
    drawFit(canvas, v, params) {
      const { ctx, width, height } = prepare(canvas);
      const box = plotBox(width, height);
      const xs = linearScale(domain, [box.left, box.left + box.width]);
      const ys = linearScale(domain, [box.top + box.height, box.top]);
      drawAxes(ctx, box, xs, ys, { x: 'actual price ($1000s)', y: 'predicted price ($1000s)' });
      const predicted = predict(v.js, params, data.holdout, 'price').map((p) => p * data.priceStd + data.priceMean);
      ctx.save();
      clipTo(ctx, box);
      polyline(ctx, domain, domain, xs, ys, COLORS.truth, { width: 1.5, dash: [6, 5] });
      points(ctx, actual, predicted, xs, ys, COLORS.data, 3);
      ctx.restore();
      legend(ctx, box, [
        { label: 'held-out house', color: COLORS.data, kind: 'dot' },
        { label: 'perfect prediction', color: COLORS.truth, kind: 'dash' },
      ], 'left');
      let squared = 0;
      for (let i = 0; i < actual.length; i++) squared += (predicted[i] - actual[i]) ** 2;
      const rmse = Math.sqrt(squared / actual.length);
      return `held-out RMSE $${fmt(rmse)}k over ${actual.length} houses (prices vary by σ = $${fmt(data.priceStd)}k; the noise alone is $15k)`;
    },
  };
}

export const DEMOS: readonly Demo[] = [kinkDemo(), housingDemo()];
