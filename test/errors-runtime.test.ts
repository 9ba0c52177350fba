/**
 * Bad arguments to a generated JS module. Every entry point checks its arguments before it
 * computes anything, and throws a message naming the function, the argument
 * (`inputs.x`, `params.W1`, `learningRate`) and, for arrays, the expected shape. A call
 * that throws changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affine, graph, relu, squaredLoss } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';

type Arrays = Record<string, Float32Array>;
interface Module {
  meta: { name: string; inputs: Record<string, readonly number[]>; params: Record<string, readonly number[]> };
  initParams(seed?: unknown): Arrays;
  forward(params: unknown, inputs: unknown): Arrays;
  loss(params: unknown, inputs: unknown): number;
  gradient(params: unknown, inputs: unknown): { loss: number; grads: Arrays };
  trainStep(params: unknown, inputs: unknown, learningRate: unknown): number;
}

const def = graph('rt', (g) => {
  const x = g.input('x', [64, 4]);
  const y = g.input('y', [64, 1]);
  const h = relu(affine(x, g.param('W1', [4, 3]), g.param('b1', [3])));
  const o = affine(h, g.param('W2', [3, 1]), g.param('b2', [1]));
  g.output('price', o);
  g.loss(squaredLoss(o, y));
});

let dir: string;
let m: Module;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gradc-runtime-errors-'));
  const files = compile(def, { targets: ['js'] }).files;
  for (const f of files) writeFileSync(join(dir, f.name), f.contents);
  m = (await import(pathToFileURL(join(dir, 'rt.js')).href)) as Module;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic, non-trivial data. */
function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 7.31 + i * 1.7);
  return a;
}
const X = () => filled(64 * 4, 1);
const Y = () => filled(64, 2);
const params = (): Arrays => {
  const p = m.initParams(3);
  for (const [k, v] of Object.entries(p)) if (v.every((e) => e === 0)) p[k] = filled(v.length, k.length + 5);
  return p;
};
const copy = (p: Arrays): Arrays => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()]));

/** Runs `fn`, which must throw a one-line Error; returns its message. */
function thrown(fn: () => unknown): Error {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    caught = e;
  }
  expect(threw, 'expected the call to throw').toBe(true);
  expect(caught).toBeInstanceOf(Error);
  const e = caught as Error;
  expect(e.message).not.toMatch(/[\r\n]/);
  return e;
}

it('the valid calls work (so the failures below are about the arguments)', () => {
  const p = params();
  expect(m.forward(p, { x: X() }).price).toHaveLength(64);
  expect(Number.isFinite(m.loss(p, { x: X(), y: Y() }))).toBe(true);
  expect(Object.keys(m.gradient(p, { x: X(), y: Y() }).grads).sort()).toEqual(['W1', 'W2', 'b1', 'b2']);
  expect(Number.isFinite(m.trainStep(copy(p), { x: X(), y: Y() }, 0.01))).toBe(true);
  // forward accepts the target too: it is a declared input, just not one forward reads.
  expect(m.forward(p, { x: X(), y: Y() }).price).toHaveLength(64);
});

describe('arrays: missing, wrong type, wrong length', () => {
  type Fn = 'forward' | 'loss' | 'gradient' | 'trainStep';
  const call = (fn: Fn, p: unknown, inputs: unknown) =>
    fn === 'forward' ? m.forward(p, inputs) : fn === 'loss' ? m.loss(p, inputs) : fn === 'gradient' ? m.gradient(p, inputs) : m.trainStep(p, inputs, 0.01);
  const fns: Fn[] = ['forward', 'loss', 'gradient', 'trainStep'];

  it.each(fns)('%s: a missing param', (fn) => {
    const { W1: _, ...rest } = params();
    const e = thrown(() => call(fn, rest, { x: X(), y: Y() }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`${fn}: params.W1 must be a Float32Array of shape [4,3] (12 values), got nothing`);
  });

  it.each(fns)('%s: a param that is undefined', (fn) => {
    const e = thrown(() => call(fn, { ...params(), b2: undefined }, { x: X(), y: Y() }));
    expect(e.message).toMatch(new RegExp(`^${fn}: params\\.b2 must be a Float32Array of shape \\[1\\] \\(1 values?\\), got `));
  });

  it.each(fns)('%s: a Float64Array input', (fn) => {
    const e = thrown(() => call(fn, params(), { x: new Float64Array(256), y: Y() }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`${fn}: inputs.x must be a Float32Array of shape [64,4] (256 values), got Float64Array`);
  });

  it.each(fns)('%s: a Float64Array param', (fn) => {
    const e = thrown(() => call(fn, { ...params(), W2: new Float64Array(3) }, { x: X(), y: Y() }));
    expect(e.message).toBe(`${fn}: params.W2 must be a Float32Array of shape [3,1] (3 values), got Float64Array`);
  });

  it.each(fns)('%s: a plain number array input', (fn) => {
    const e = thrown(() => call(fn, params(), { x: Array.from(X()), y: Y() }));
    expect(e.message).toBe(`${fn}: inputs.x must be a Float32Array of shape [64,4] (256 values), got Array`);
  });

  it.each(fns)('%s: an input of the wrong length', (fn) => {
    const e = thrown(() => call(fn, params(), { x: new Float32Array(255), y: Y() }));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe(`${fn}: inputs.x must have shape [64,4] (256 values), got 255 values`);
  });

  it.each(fns)('%s: a param of the transposed shape but the right length passes the check', (fn) => {
    // [3,4] has 12 values like [4,3]: the module cannot tell, and must not throw.
    expect(() => call(fn, { ...params(), W1: filled(12, 9) }, { x: X(), y: Y() })).not.toThrow();
  });

  it.each(fns)('%s: a param of the wrong length', (fn) => {
    const e = thrown(() => call(fn, { ...params(), W1: new Float32Array(13) }, { x: X(), y: Y() }));
    expect(e.message).toBe(`${fn}: params.W1 must have shape [4,3] (12 values), got 13 values`);
  });

  it.each(['loss', 'gradient', 'trainStep'] as Fn[])('%s: the target is missing', (fn) => {
    const e = thrown(() => call(fn, params(), { x: X() }));
    expect(e.message).toBe(`${fn}: inputs.y must be a Float32Array of shape [64,1] (64 values), got nothing`);
  });

  it.each(fns)('%s: params not an object', (fn) => {
    for (const [bad, shown] of [[undefined, 'undefined'], [null, 'null'], [42, 'number'], ['W1', 'string']] as const) {
      const e = thrown(() => call(fn, bad, { x: X(), y: Y() }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe(`${fn}: params must be an object of Float32Arrays, got ${shown}`);
    }
  });

  it.each(fns)('%s: inputs not an object', (fn) => {
    const e = thrown(() => call(fn, params(), X()));
    expect(e.message).toMatch(new RegExp(`^${fn}: inputs`));
    const e2 = thrown(() => call(fn, params(), undefined));
    expect(e2.message).toBe(`${fn}: inputs must be an object of Float32Arrays, got undefined`);
  });

  it.each(fns)('%s: params and inputs swapped', (fn) => {
    // The first name that is not a param is named, with the names that are.
    const e = thrown(() => call(fn, { x: X(), y: Y() }, params()));
    expect(e.message).toBe(`${fn}: unknown param "x"; expected W1, b1, W2, b2`);
  });

  it.each(fns)('%s: inputs named in the wrong case', (fn) => {
    const e = thrown(() => call(fn, params(), { X: X(), Y: Y() }));
    expect(e.message).toBe(`${fn}: unknown input "X"; expected x, y`);
  });

  it.each(fns)('%s: an unknown extra input name', (fn) => {
    const e = thrown(() => call(fn, params(), { x: X(), y: Y(), z: X() }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(new RegExp(`^${fn}: unknown input "z"; expected x`));
  });

  it.each(fns)('%s: a misspelt input name instead of the right one', (fn) => {
    const e = thrown(() => call(fn, params(), { X: X(), y: Y() }));
    expect(e.message).toMatch(new RegExp(`^${fn}: (inputs\\.x must be a Float32Array of shape \\[64,4\\]|unknown input "X")`));
  });

  it.each(fns)('%s: an unknown extra param name', (fn) => {
    const e = thrown(() => call(fn, { ...params(), W3: filled(3, 1) }, { x: X(), y: Y() }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`${fn}: unknown param "W3"; expected W1, b1, W2, b2`);
  });

  it.each(fns)('%s: an inherited key is not mistaken for a param', (fn) => {
    const inherited = Object.create(params()) as Arrays;
    const e = thrown(() => call(fn, inherited, { x: X(), y: Y() }));
    expect(e.message).toBe(`${fn}: params.W1 must be a Float32Array of shape [4,3] (12 values), got nothing`);
  });
});

describe('learningRate', () => {
  const bad: [string, unknown, string][] = [
    ['zero', 0, '0'],
    ['negative', -0.1, '-0.1'],
    ['NaN', NaN, 'NaN'],
    ['Infinity', Infinity, 'Infinity'],
    ['-Infinity', -Infinity, '-Infinity'],
    ['missing', undefined, 'undefined'],
    ['null', null, 'null'],
  ];
  it.each(bad)('%s is rejected', (_, rate, shown) => {
    const e = thrown(() => m.trainStep(params(), { x: X(), y: Y() }, rate));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe(`trainStep: learningRate must be a finite number > 0, got ${shown}`);
  });

  it('a string is rejected, and the message shows that it was a string', () => {
    const e = thrown(() => m.trainStep(params(), { x: X(), y: Y() }, '0.1'));
    expect(e.message).toMatch(/^trainStep: learningRate must be a finite number > 0, got /);
    // "got 0.1" would contradict "must be a number": the value must be shown as the string it is.
    expect(e.message).toMatch(/got (a )?string|got "0\.1"|got '0\.1'/);
  });
});

describe('initParams seed', () => {
  it.each([
    ['a fraction', 1.5, '1.5'],
    ['NaN', NaN, 'NaN'],
    ['Infinity', Infinity, 'Infinity'],
    ['null', null, 'null'],
  ] as [string, unknown, string][])('%s is rejected', (_, seed, shown) => {
    const e = thrown(() => m.initParams(seed));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`initParams: seed must be an integer, got ${shown}`);
  });

  it('a numeric string is rejected, and the message shows that it was a string', () => {
    const e = thrown(() => m.initParams('7'));
    expect(e.message).toMatch(/^initParams: seed must be an integer, got /);
    expect(e.message).toMatch(/got (a )?string|got "7"|got '7'/);
  });

  it('no seed means seed 0; equal seeds give equal params', () => {
    expect(m.initParams()).toEqual(m.initParams(0));
    expect(m.initParams(5)).toEqual(m.initParams(5));
    expect(m.initParams(5).W1).not.toEqual(m.initParams(6).W1);
  });
});

describe('a trainStep that throws changes nothing', () => {
  const failing: [string, (p: Arrays) => unknown][] = [
    ['bad learning rate', (p) => m.trainStep(p, { x: X(), y: Y() }, -1)],
    ['NaN learning rate', (p) => m.trainStep(p, { x: X(), y: Y() }, NaN)],
    ['missing target', (p) => m.trainStep(p, { x: X() }, 0.1)],
    ['short input', (p) => m.trainStep(p, { x: X().subarray(1), y: Y() }, 0.1)],
    ['Float64Array target', (p) => m.trainStep(p, { x: X(), y: new Float64Array(64) }, 0.1)],
    ['unknown input', (p) => m.trainStep(p, { x: X(), y: Y(), extra: Y() }, 0.1)],
    ['unknown param', (p) => m.trainStep({ ...p, extra: Y() }, { x: X(), y: Y() }, 0.1)],
    ['one param of the wrong length', (p) => m.trainStep({ ...p, b2: new Float32Array(2) }, { x: X(), y: Y() }, 0.1)],
  ];
  it.each(failing)('%s', (_, step) => {
    const p = params();
    const before = copy(p);
    thrown(() => step(p));
    for (const [k, v] of Object.entries(before)) expect(p[k], `params.${k}`).toEqual(v);
    // …and a good step afterwards still changes them, so the comparison above means something.
    m.trainStep(p, { x: X(), y: Y() }, 0.1);
    expect(Object.entries(before).some(([k, v]) => p[k].some((e, i) => e !== v[i]))).toBe(true);
  });

  it('a failed call does not disturb the next result', () => {
    const p = params();
    const expected = m.loss(p, { x: X(), y: Y() });
    thrown(() => m.loss(p, { x: new Float32Array(10), y: Y() }));
    thrown(() => m.trainStep(copy(p), { x: X(), y: Y() }, 0));
    expect(m.loss(p, { x: X(), y: Y() })).toBe(expected);
  });
});
