/**
 * Trains every sample with mini-batch SGD (Adam for the digits) on the CPU runtime and checks
 * that it learned: exits non-zero if any sample fails to cut its loss by the required
 * factor or misses its sample-specific target (kink location and slope, iris and digits
 * accuracy, the digits' saved weights giving the same predictions in a fresh process).
 *
 * It builds nothing: it imports the generated modules from samples/.gen, which `npm run
 * sample` fills first by building every samples/<name>/<name>.graph.ts. The
 * GRADC_SAMPLES_GEN environment variable points it at another directory of modules.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { accuracy, argmax, assertModel, evaluate, formatRate, minibatchSgd, predict, progressBar, saveParams, type Dataset, type Model, type Tensors } from '../runtime/cpu/index.ts';
import { scatterSvg } from './plot.ts';
import { housingData } from './housing/data.ts';
import { digitsData } from './digits/data.ts';
import { TRAINING, predictDigits, predictInFreshProcess, trainDigits } from './digits/train.ts';
import { irisData } from './iris/data.ts';
import { KINK_TRUTH, kinkData, toOriginalUnits } from './kink/data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const genDir = resolve(process.env.GRADC_SAMPLES_GEN ?? join(here, '.gen'));

interface Outcome {
  readonly name: string;
  /** Problems found; empty when the sample passed. */
  readonly failures: string[];
}

async function loadModel(name: string): Promise<Model> {
  const file = join(genDir, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist; build the samples first (npm run sample, or gradc build samples/*/*.graph.ts --out samples/.gen)`);
  }
  const mod: unknown = await import(pathToFileURL(file).href);
  assertModel(mod, file);
  if (mod.meta.name !== name) throw new Error(`${file} holds model '${mod.meta.name}', expected '${name}'`);
  return mod;
}

const fmt = (v: number, digits = 4): string => v.toPrecision(digits);

/** Trains with progress lines every `every` epochs; returns the loss over `data` before and after. */
function train(
  model: Model,
  params: Tensors,
  data: Dataset,
  options: { learningRate: number; epochs: number; seed: number; every: number },
): { before: number; after: number } {
  const before = evaluate(model, params, data);
  const batch = model.meta.inputs.x[0];
  console.log(`  epoch    0  loss ${fmt(before)}  (B=${batch}, α=${options.learningRate}, ${data.count} examples)`);
  const bar = progressBar({ label: model.meta.name, total: options.epochs });
  const { steps } = minibatchSgd(model, params, data, {
    learningRate: options.learningRate,
    epochs: options.epochs,
    seed: options.seed,
    onEpoch: (epoch, meanLoss) => {
      if (epoch === 1 || epoch % options.every === 0 || epoch === options.epochs) bar.log(`  epoch ${String(epoch).padStart(4)}  loss ${fmt(meanLoss)}`);
      bar.update(epoch, meanLoss, epoch * Math.floor(data.count / batch));
    },
  });
  console.log(`  ${steps} SGD steps at ${formatRate(bar.finish())} steps/s`);
  return { before, after: evaluate(model, params, data) };
}

function requireFactor(failures: string[], what: string, before: number, after: number, factor: number): void {
  const got = before / after;
  console.log(`  ${what}: ${fmt(before)} → ${fmt(after)} (×${fmt(got, 3)} lower; need ×${factor})`);
  if (!(got >= factor)) failures.push(`${what} fell only ×${fmt(got, 3)} (${fmt(before)} → ${fmt(after)}); expected at least ×${factor}`);
}

/** Notes Fig. 1: one ReLU neuron finds the size below which houses are worth nothing. */
async function kink(): Promise<Outcome> {
  const failures: string[] = [];
  const model = await loadModel('kink');
  const data = kinkData(256, 1);
  const params = model.initParams(1);
  const { before, after } = train(model, params, data.dataset, { learningRate: 0.1, epochs: 60, seed: 11, every: 10 });
  requireFactor(failures, 'training loss', before, after, 20);
  const w = params.w[0];
  const b = params.b[0];
  const fit = toOriginalUnits(data, w, b);
  console.log(`  learned w = ${fmt(w)}, b = ${fmt(b)} (standardized size → scaled price)`);
  console.log(`  slope ${fmt(fit.slope, 3)} $k/sq ft (true ${KINK_TRUTH.slope}); kink at ${fmt(fit.kinkSize, 4)} sq ft (true ${KINK_TRUTH.kinkSize})`);
  const { x, y } = data.dataset.inputs;
  const points = Array.from(x, (xi, i) => [xi * data.sizeStd + data.sizeMean, y[i] * data.priceScale] as const);
  const svg = join(genDir, 'kink.svg');
  writeFileSync(svg, scatterSvg({
    title: 'House prices with a kink, and the single ReLU neuron fitted by SGD',
    xLabel: 'size (square feet)', yLabel: 'price ($1000s)', points,
    curve: (size) => Math.max(0, fit.slope * (size - fit.kinkSize)),
    marker: { x: KINK_TRUTH.kinkSize, label: `true kink ${KINK_TRUTH.kinkSize} sq ft` },
  }));
  console.log(`  plot: ${svg}`);
  if (!(Math.abs(fit.kinkSize - KINK_TRUTH.kinkSize) <= 150)) failures.push(`kink at ${fmt(fit.kinkSize)} sq ft, more than 150 from ${KINK_TRUTH.kinkSize}`);
  if (!(Math.abs(fit.slope / KINK_TRUTH.slope - 1) <= 0.15)) failures.push(`slope ${fmt(fit.slope)} is more than 15% off ${KINK_TRUTH.slope}`);
  return { name: 'kink', failures };
}

/** Notes §2: the two-layer network on four features, judged on held-out houses. */
async function housing(): Promise<Outcome> {
  const failures: string[] = [];
  const model = await loadModel('housing');
  const data = housingData(1280, 0.2, 2);
  const params = model.initParams(2);
  const heldBefore = evaluate(model, params, data.holdout);
  const { before, after } = train(model, params, data.train, { learningRate: 0.05, epochs: 150, seed: 12, every: 25 });
  const heldAfter = evaluate(model, params, data.holdout);
  requireFactor(failures, 'training loss', before, after, 5);
  requireFactor(failures, 'held-out loss', heldBefore, heldAfter, 5);
  // J = ½·mean squared error in standardized units, so RMSE = √(2J)·σ_price.
  const rmse = (j: number) => Math.sqrt(2 * j) * data.priceStd;
  console.log(`  train loss ${fmt(after)}, held-out loss ${fmt(heldAfter)}; held-out RMSE $${fmt(rmse(heldAfter), 3)}k (price σ $${fmt(data.priceStd, 3)}k)`);
  return { name: 'housing', failures };
}

/** A deeper MLP classifying iris species, judged by held-out accuracy. */
async function iris(): Promise<Outcome> {
  const failures: string[] = [];
  const model = await loadModel('iris');
  const data = irisData(30, 3);
  const params = model.initParams(3);
  const { before, after } = train(model, params, data.train, { learningRate: 0.5, epochs: 300, seed: 13, every: 50 });
  requireFactor(failures, 'training loss', before, after, 4);
  // The predicted species is the highest score; the true one, the 1 of the one-hot target.
  const k = data.classes.length;
  const accuracyOn = (set: Dataset) => accuracy(argmax(predict(model, params, set, 'scores'), k), argmax(set.inputs.y, k));
  const acc = accuracyOn(data.holdout);
  const trainAcc = accuracyOn(data.train);
  console.log(`  accuracy: train ${fmt(100 * trainAcc, 3)}%, held-out ${fmt(100 * acc, 3)}% of ${data.holdout.count}`);
  if (!(acc >= 0.85)) failures.push(`held-out accuracy ${fmt(100 * acc, 3)}% is below 85%`);
  return { name: 'iris', failures };
}

/**
 * A 64-32-10 classifier of handwritten digits (softmax cross-entropy, Adam), judged by
 * held-out accuracy; its weights are saved and loaded again in a fresh process, which must
 * predict exactly the same.
 */
async function digits(): Promise<Outcome> {
  const failures: string[] = [];
  const model = await loadModel('digits');
  const data = digitsData();
  const t0 = performance.now();
  console.log(`  ${data.train.count} training and ${data.holdout.count} held-out digits (B=${model.meta.inputs.x[0]}, Adam α=${TRAINING.learningRate})`);
  const { params, state } = trainDigits(model, data, ({ epoch, loss, validationLoss }) => {
    if (epoch === 1 || epoch % 5 === 0) console.log(`  epoch ${String(epoch).padStart(4)}  loss ${fmt(loss)}  held-out loss ${fmt(validationLoss!)}`);
  });
  console.log(`  ${state.step} Adam steps in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const { probs, digits: predicted } = predictDigits(model, params, data.holdout);
  const acc = accuracy(predicted, data.holdoutLabels);
  console.log(`  held-out accuracy ${fmt(100 * acc, 3)}% of ${data.holdout.count}`);
  if (!(acc >= 0.9)) failures.push(`held-out accuracy ${fmt(100 * acc, 3)}% is below 90%`);

  const weights = join(genDir, 'digits.safetensors');
  writeFileSync(weights, saveParams(model, params, state));
  const reloaded = predictInFreshProcess(join(genDir, 'digits.js'), weights);
  const same = Buffer.from(reloaded.probs.buffer).equals(Buffer.from(probs.buffer)) && reloaded.digits.every((d, i) => d === predicted[i]);
  console.log(`  saved ${weights}; a fresh process loaded it and predicted ${same ? 'the same' : 'DIFFERENT'} probabilities for all ${data.holdout.count}`);
  if (!same) failures.push('the weights loaded in a fresh process predict differently');
  return { name: 'digits', failures };
}

async function main(): Promise<void> {
  const started = performance.now();
  const outcomes: Outcome[] = [];
  for (const [name, sample] of [['kink', kink], ['housing', housing], ['iris', iris], ['digits', digits]] as const) {
    console.log(`\n== ${name}`);
    const t0 = performance.now();
    try {
      outcomes.push(await sample());
    } catch (error) {
      outcomes.push({ name, failures: [error instanceof Error ? error.message : String(error)] });
    }
    console.log(`  (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
  }
  console.log(`\n== summary (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  for (const { name, failures } of outcomes) {
    console.log(`  ${failures.length === 0 ? 'ok  ' : 'FAIL'} ${name}${failures.map((f) => `\n       ${f}`).join('')}`);
  }
  if (outcomes.some((o) => o.failures.length > 0)) process.exitCode = 1;
}

await main();
