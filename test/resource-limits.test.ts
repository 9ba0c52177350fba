/**
 * Resource limits, at build time: an array larger than a Float32Array can hold (2^32
 * elements in Node 20) is rejected where it is declared or made, with the figure and the
 * limit; so is a JS arena past it, and a WGSL buffer past 4 GiB. (A GPU buffer past its
 * device's binding or buffer limit is refused where the model is made: createModel, tested
 * in test/wgsl.test.ts; createDataset, in test/runtime-bad-input.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { affine, graph, matmul, relu, sigmoid, squaredLoss, sum, tanh } from '../compiler/index.ts';
import { compile } from '../compiler/compile.ts';
import { planModule } from '../compiler/kernels/plan.ts';
import { checkJsArena, MAX_ARRAY_ELEMENTS } from '../compiler/dsl/limits.ts';

const HERE = 'test/resource-limits.test.ts';

function error(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect((e as Error).name).toBe('GradcError');
    expect((e as Error).message).not.toMatch(/\n/);
    return e as Error;
  }
  throw new Error('expected a GradcError');
}

describe("Node's typed-array limit", () => {
  it('is 2^32 elements for a Float32Array, as the check assumes', () => {
    expect(MAX_ARRAY_ELEMENTS).toBe(2 ** 32);
    // One past the limit is refused before anything is allocated.
    expect(() => new Float32Array(2 ** 32 + 1)).toThrow(/Invalid typed array length/);
  });
});

describe('arrays', () => {
  it('an input past the limit is rejected at its declaration, with the figure and the limit', () => {
    const e = error(() => graph('big', (g) => {
      g.output('o', relu(g.input('x', [2 ** 30, 8])));
    }));
    expect(e.message).toMatch(new RegExp(`^input 'x' at ${HERE}:\\d+: the shape \\[1073741824,8\\] has 8589934592 elements, but a Float32Array holds at most 2\\^32 = 4294967296 in Node`));
  });

  it('a param past the limit too', () => {
    const e = error(() => graph('big', (g) => {
      const x = g.input('x', [2, 100_000]);
      g.output('o', matmul(x, g.param('W', [100_000, 50_000])));
    }));
    expect(e.message).toMatch(/^param 'W' at .*: the shape \[100000,50000\] has 5000000000 elements, but a Float32Array holds at most 2\^32/);
  });

  it('exactly 2^32 elements is accepted', () => {
    expect(() => graph('edge', (g) => {
      g.output('o', relu(g.input('x', [2 ** 16, 2 ** 16])));
    })).not.toThrow();
  });

  it('an intermediate past the limit is rejected at the call that makes it, though every leaf is small', () => {
    const e = error(() => graph('outer', (g) => {
      const x = g.input('x', [2 ** 20, 1]);
      const h = matmul(x, g.param('W', [1, 2 ** 13])); // 2^33 elements
      g.loss(sum(h));
    }));
    expect(e.message).toMatch(new RegExp(`^matmul\\(x, g\\.param\\('W', \\[1, 2 \\*\\* 13\\]\\)\\) at ${HERE}:\\d+: the result \\[1048576,8192\\] has 8589934592 elements, but a Float32Array holds at most 2\\^32`));
  });

  it('outputs that together exceed the limit are rejected when the graph closes (forward keeps them all in one arena)', () => {
    const e = error(() => graph('wide', (g) => {
      const x = g.input('x', [2 ** 16, 2 ** 15]);
      g.output('r', relu(x));
      g.output('s', sigmoid(x));
      g.output('t', tanh(x));
    }));
    expect(e.message).toMatch(/^graph 'wide' at .*: its outputs hold 6442450944 floats together, .* a Float32Array holds at most 2\^32 = 4294967296/);
  });
});

describe('arenas', () => {
  it('the JS arena check names the figure, the limit and the largest buffers', () => {
    const def = graph('arena', (g) => {
      const x = g.input('x', [4, 3]);
      const o = affine(relu(affine(x, g.param('W1', [3, 5]), g.param('b1', [5]))), g.param('W2', [5, 2]), g.param('b2', [2]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [4, 2])));
    });
    const plan = planModule(def);
    const buffers = [...plan.memory.place.keys()];
    expect(() => checkJsArena(plan.graph, 1000, buffers)).not.toThrow();
    expect(() => checkJsArena(plan.graph, 2 ** 32, buffers)).not.toThrow();
    const e = error(() => checkJsArena(plan.graph, 2 ** 32 + 16, buffers));
    expect(e.message).toMatch(/^graph 'arena' at .*: the JS arena needs 4294967312 floats, but a Float32Array holds at most 2\^32 = 4294967296 in Node .*; largest buffers: \w+ \[4,5\], /);
  });

  it('a WGSL buffer past what a binding can address (4 GiB) is rejected at build time with the figure; the JS target still builds', () => {
    const def = graph('gpuwide', (g) => {
      const x = g.input('x', [65_536, 16_385]);
      const o = affine(x, g.param('W', [16_385, 1]), g.param('b', [1]));
      g.output('o', o);
      g.loss(squaredLoss(o, g.input('y', [65_536, 1])));
    });
    const e = error(() => compile(def, { targets: ['wgsl'] }));
    expect(e.message).toMatch(/^graph 'gpuwide' at .*: the WGSL inputs buffer needs 4096\.\d MiB but a WebGPU buffer binding can address at most 4 GiB; largest values: x 4096\.\d MiB/);
    expect(() => compile(def, { targets: ['js'], forwardOnly: true })).not.toThrow();
  });
});
