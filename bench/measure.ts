/**
 * Interleaved timing of several contenders doing the same step.
 *
 * 1. Warm-up: each contender runs steps until at least `warmupMs` have passed and its step
 *    time has settled (at most `maxWarmupMs`), unless a step is already known to take longer
 *    than `skipWarmupAboveMs` (its kernels already ran in the agreement check, and more
 *    steps would only cost time).
 * 2. Each contender gets a batch size: how many steps make one round of ~`roundMs`.
 * 3. Rounds go round-robin over the contenders, rotating who goes first, so drift in the
 *    machine's speed (thermal, other processes) hits all of them alike. Each round gives one
 *    sample per contender: the mean time of one step in its batch.
 * 4. Fast contenders take `maxRounds` samples; a contender whose steps are slow takes as many
 *    as fit in `slowBudgetMs`, but never fewer than `minSamples`.
 */
import { median } from './support.ts';

export interface Contender {
  readonly name: string;
  /** One step (a contender whose steps are asynchronous returns a promise, awaited before the next). */
  readonly step: () => void | Promise<void>;
  /** A known time for one step (ms), e.g. from the agreement check; optional. */
  readonly estimateMs?: number;
}

export interface TimingOptions {
  readonly roundMs: number;
  readonly maxRounds: number;
  readonly minSamples: number;
  readonly slowBudgetMs: number;
  readonly warmupMs: number;
  /** Warm-up stops here even if step times have not settled. */
  readonly maxWarmupMs: number;
  readonly skipWarmupAboveMs: number;
}

export interface Timing {
  readonly name: string;
  /** Per-step times in ms, one per round. */
  readonly samples: number[];
  readonly stepsPerSample: number;
  readonly medianMs: number;
  readonly minMs: number;
  /** Median absolute deviation over the median: the spread of the samples. */
  readonly relSpread: number;
}

export async function measure(contenders: readonly Contender[], o: TimingOptions): Promise<Timing[]> {
  const plans = [];
  for (const c of contenders) {
    const known = c.estimateMs;
    const estimate = known !== undefined && known > o.skipWarmupAboveMs ? known : await warmUp(c.step, o);
    const steps = Math.max(1, Math.round(o.roundMs / Math.max(estimate, 1e-6)));
    const sampleMs = steps * estimate;
    const rounds = sampleMs <= o.roundMs * 1.5 ? o.maxRounds : Math.min(o.maxRounds, Math.max(o.minSamples, Math.floor(o.slowBudgetMs / sampleMs)));
    plans.push({ c, steps, rounds, samples: [] as number[] });
  }
  const maxRounds = Math.max(...plans.map((p) => p.rounds));
  for (let r = 0; r < maxRounds; r++) {
    for (let i = 0; i < plans.length; i++) {
      const p = plans[(r + i) % plans.length];
      if (p.samples.length < p.rounds) p.samples.push(await timeBatch(p.c.step, p.steps));
    }
  }
  return plans.map((p) => {
    const med = median(p.samples);
    return {
      name: p.c.name,
      samples: p.samples,
      stepsPerSample: p.steps,
      medianMs: med,
      minMs: Math.min(...p.samples),
      relSpread: median(p.samples.map((s) => Math.abs(s - med))) / med,
    };
  });
}

/**
 * Runs steps in chunks (1, 2, 4, … steps, up to ~roundMs/10 of work each) until at least
 * `warmupMs` have passed and the last three chunks agree within 25% (the JIT has settled),
 * or `maxWarmupMs` have passed. Returns an estimate of one step's time (ms).
 */
async function warmUp(step: Contender['step'], o: TimingOptions): Promise<number> {
  const t0 = performance.now();
  const perStep: number[] = [];
  let chunk = 1;
  for (;;) {
    const t = await timeBatch(step, chunk);
    perStep.push(t);
    if (t * chunk < o.roundMs / 10) chunk *= 2;
    const elapsed = performance.now() - t0;
    const last = perStep.slice(-3);
    const settled = last.length === 3 && Math.max(...last) <= 1.25 * Math.min(...last);
    if ((elapsed >= o.warmupMs && settled) || elapsed >= o.maxWarmupMs) return median(last);
  }
}

/** Mean ms per step over `steps` steps (a synchronous step is never awaited: no microtask between steps). */
async function timeBatch(step: Contender['step'], steps: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const pending = step();
    if (pending) await pending;
  }
  return (performance.now() - t0) / steps;
}
