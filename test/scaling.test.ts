/**
 * Building a graph, differentiating it and optimizing it take time about linear in its
 * number of layers (issue 13: 250 layers took 0.23 s, 1000 layers 3.75 s and 2000 layers
 * 26.7 s in `graph()` alone, from a scan of every node per param). The bound below is
 * deliberately generous, for a loaded two-core machine: a quadratic step anywhere in these
 * stages takes tens of seconds at this size.
 */
import { describe, expect, it } from 'vitest';
import { deepGraph } from './support/deep-graph.ts';
import { differentiate } from '../compiler/autodiff/backward.ts';
import { optimize } from '../compiler/passes/pipeline.ts';
import { NodeList } from '../compiler/ir/builder.ts';
import { compile } from '../compiler/compile.ts';

const LAYERS = 2000;

const deep = deepGraph;

describe('graphs with thousands of layers', () => {
  it(`a ${LAYERS}-layer graph is built, differentiated and optimized in a few seconds`, () => {
    const start = performance.now();
    const def = deep(LAYERS);
    const full = optimize(differentiate(def.ir));
    const seconds = (performance.now() - start) / 1000;
    expect(def.ir.params).toHaveLength(4 * LAYERS);
    expect(full.grads).toHaveLength(4 * LAYERS);
    // Default inits were settled for every weight: he before a ReLU, xavier before tanh.
    expect(def.ir.nodes[def.ir.params[0].id].attrs.init).toBe('xavier');
    expect(def.ir.nodes[def.ir.params[4].id].attrs.init).toBe('he');
    expect(seconds, `${seconds.toFixed(1)} s`).toBeLessThan(10);
  }, 120_000);
});

describe('emitting thousands of layers', () => {
  const jsOf = (layers: number) => compile(deep(layers)).files.find((f) => f.name === 'deep.ts')!.contents;
  const kernelsOf = (text: string) => text.match(/^function k_\w+\(/gm)!.length;

  it('identical layers share their kernels in the JS module: its kernel count does not grow with depth', () => {
    const [a, b] = [jsOf(20), jsOf(40)];
    expect(kernelsOf(a)).toBe(kernelsOf(b));
    expect(kernelsOf(a)).toBeLessThan(40);
    expect(b).toMatch(/Shared by \d+ kernels of this form/);
  });

  it(`a ${LAYERS}-layer graph is planned, lowered and emitted as JS in a few seconds`, () => {
    const start = performance.now();
    const text = jsOf(LAYERS);
    const seconds = (performance.now() - start) / 1000;
    expect(text).toContain(`p_W${LAYERS - 1}`);
    // Near-linear: the kernels are shared, so the module grows by its launch lines and arrays only.
    expect(text.length / LAYERS).toBeLessThan(4000);
    expect(seconds, `${seconds.toFixed(1)} s`).toBeLessThan(30);
  }, 120_000);
});

describe('node names', () => {
  it('stay the smallest free base_k, also after a rename frees one', () => {
    const list = new NodeList();
    const leaf = (name: string) => list.push({ op: 'const', inputs: [], attrs: { value: 0 }, shape: [], name });
    const ids = [leaf('h'), leaf('h'), leaf('h'), leaf('h')];
    expect(ids.map((id) => list.nodes[id].name)).toEqual(['h', 'h_2', 'h_3', 'h_4']);
    list.rename(ids[1], 'd');
    expect(list.nodes[leaf('h')].name).toBe('h_2');
    expect(list.nodes[leaf('h')].name).toBe('h_5');
    expect(list.nodes[leaf('h_1')].name).toBe('h_1');
    list.rename(ids[2], 'e');
    expect(list.nodes[leaf('h')].name).toBe('h_3');
  });
});
