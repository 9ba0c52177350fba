/** The loss curve, on a log scale, against SGD steps. */
import { COLORS, clipTo, decadeDomain, drawAxes, legend, linearScale, logScale, niceDomain, placeholder, plotBox, points, polyline, prepare } from './plot.ts';

export interface LossPoint {
  /** SGD steps taken. */
  readonly step: number;
  /** J over the whole training set, after `step` steps. */
  readonly train: number;
  /** J over the held-out rows, where the model has them. */
  readonly holdout?: number;
  /** J of the last mini-batch, as the training step itself computed it (before its update). */
  readonly batch?: number;
}

/** Keeps at most about `limit` points: when full, every other point of the older half goes. */
export function thin(history: LossPoint[], limit = 2000): void {
  if (history.length <= limit) return;
  const half = history.length >> 1;
  const kept = history.slice(0, half).filter((_, i) => i % 2 === 0);
  history.splice(0, half, ...kept);
}

export function drawLoss(canvas: HTMLCanvasElement, history: readonly LossPoint[], withHoldout: boolean): void {
  const { ctx, width, height } = prepare(canvas);
  const box = plotBox(width, height);
  const positive = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v > 0;
  const values = history.flatMap((p) => [p.train, p.holdout, p.batch]).filter(positive);
  const lastStep = history.length > 0 ? history[history.length - 1].step : 0;
  const xs = linearScale(niceDomain(0, Math.max(lastStep, 50)), [box.left, box.left + box.width]);
  const yDomain = values.length > 0 ? decadeDomain(Math.min(...values), Math.max(...values)) : ([1e-2, 1] as [number, number]);
  const ys = logScale(yDomain, [box.top + box.height, box.top]);
  drawAxes(ctx, box, xs, ys, { x: 'SGD steps', y: 'loss J (log scale)' });
  if (history.length === 0) {
    placeholder(ctx, box, 'Press Start to train');
    return;
  }
  const steps = history.map((p) => p.step);
  ctx.save();
  clipTo(ctx, box);
  const batched = history.filter((p) => positive(p.batch));
  points(ctx, batched.map((p) => p.step), batched.map((p) => p.batch!), xs, ys, COLORS.batchLoss, 2);
  if (withHoldout) polyline(ctx, steps, history.map((p) => p.holdout ?? Number.NaN), xs, ys, COLORS.holdout, { width: 2 });
  polyline(ctx, steps, history.map((p) => p.train), xs, ys, COLORS.loss, { width: 2.5 });
  const now = history[history.length - 1];
  points(ctx, [now.step], [now.train], xs, ys, COLORS.loss, 4);
  ctx.restore();
  legend(ctx, box, [
    { label: 'training set', color: COLORS.loss, kind: 'line' },
    ...(withHoldout ? [{ label: 'held-out set', color: COLORS.holdout, kind: 'line' as const }] : []),
    { label: 'mini-batch', color: 'rgba(37, 99, 235, 0.5)', kind: 'dot' },
  ]);
}
