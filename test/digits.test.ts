/**
 * The digits sample, piece by piece as `npm run sample` runs it: the vendored data with its
 * attribution and licence, training with softmax cross-entropy and Adam to a held-out
 * accuracy far above chance, held-out rows predicted in whole batches with the remainder
 * right, and the saved weights giving the same predictions in a fresh Node process.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { writeHostFile } from './support/module.ts';
import { accuracy, assertModel, saveParams, takeRows, type Model } from '../runtime/cpu/index.ts';
import digitsGraph from '../samples/digits/digits.graph.ts';
import { digitsData, readDigits, type DigitsData } from '../samples/digits/data.ts';
import { predictDigits, predictInFreshProcess, trainDigits, type TrainedDigits } from '../samples/digits/train.ts';

const dir = mkdtempSync(join(tmpdir(), 'gradc-digits-'));
const modulePath = join(dir, 'digits.js');
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let model: Model;
let data: DigitsData;
let trained: TrainedDigits;
beforeAll(async () => {
  const { files } = compile(digitsGraph, { targets: ['js'] });
  writeFileSync(modulePath, files.find((f) => f.name === 'digits.js')!.contents);
  writeHostFile(dirname(modulePath), files);
  const imported: unknown = await import(pathToFileURL(modulePath).href);
  assertModel(imported);
  model = imported;
  data = digitsData();
  trained = trainDigits(model, data);
});

describe('the digits sample', () => {
  it('vendors the data with its attribution and licence: 1,797 images of 64 pixels in [0, 1], each digit about 180 times', () => {
    const { x, labels } = readDigits();
    expect(labels.length).toBe(1797);
    expect(x.length).toBe(1797 * 64);
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBe(1);
    const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    expect(counts).toEqual([178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    const readme = readFileSync(new URL('../samples/digits/data/README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/Alpaydin/);
    expect(readme).toMatch(/CC BY 4\.0/);
    expect(readFileSync(new URL('../samples/digits/data/LICENSE', import.meta.url), 'utf8')).toMatch(/^Attribution 4\.0 International/);
    expect(data.train.count + data.holdout.count).toBe(1797);
    expect(data.holdout.count).toBe(359);
  });

  it('trains with softmax cross-entropy and Adam to ≥ 90 % held-out accuracy (chance: 10 %)', () => {
    expect(model.meta.optimizer).toEqual({ name: 'adam', slots: ['m', 'v'] });
    const { history, state } = trained;
    expect(state.step).toBe(20 * Math.ceil(1438 / 32));
    expect(history[history.length - 1].validationLoss!).toBeLessThan(history[0].validationLoss! / 3);
    const { digits } = predictDigits(model, trained.params, data.holdout);
    expect(accuracy(digits, data.holdoutLabels)).toBeGreaterThanOrEqual(0.9);
  });

  it('predicts all 359 held-out rows, the last 7 (359 = 11·32 + 7) in a call of their own, as they are in any batch', () => {
    const { probs } = predictDigits(model, trained.params, data.holdout);
    expect(probs.length).toBe(359 * 10);
    // The last 7 rows first in a batch of 32 filled with other rows: the same probabilities.
    const rows = Int32Array.from({ length: 32 }, (_, k) => (k < 7 ? 352 + k : k));
    const batch = takeRows(data.holdout, rows);
    const out = (model.forward(trained.params, { x: batch.x }) as { probs: Float32Array }).probs;
    expect(bits(probs.subarray(352 * 10))).toEqual(bits(out.subarray(0, 70)));
  });

  it('saves the weights, and a fresh process that loads them predicts exactly the same', () => {
    const weights = join(dir, 'digits.safetensors');
    writeFileSync(weights, saveParams(model, trained.params, trained.state));
    const here = predictDigits(model, trained.params, data.holdout);
    const there = predictInFreshProcess(modulePath, weights);
    expect(Array.from(there.digits)).toEqual(Array.from(here.digits));
    expect(bits(there.probs)).toEqual(bits(here.probs));
  });

  it('the fresh process fails loudly on weights it cannot use', () => {
    const weights = join(dir, 'broken.safetensors');
    writeFileSync(weights, saveParams(model, trained.params).subarray(0, 200));
    expect(() => predictInFreshProcess(modulePath, weights)).toThrow(/^reloading the weights in a fresh process failed: loadParams: the file is truncated, or not a safetensors file: its header should be \d+ bytes long, but only 192 bytes follow the length$/);
  });
});
