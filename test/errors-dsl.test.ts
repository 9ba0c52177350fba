/**
 * Graph-build errors from the in-process DSL. Every error the user can fix must be a
 * GradcError whose message is one line, quotes the call as written, names the arguments as
 * written, and points at this file and the line of the offending call.
 *
 * Lines are found through `// @marker` comments in this file's own source, so editing the
 * file does not break the expected line numbers.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  GradcError, Tensor, add, affine, graph, matmul, mean, mul, relu, sigmoid, squaredLoss, sub, sum, tanh,
  type GraphContext, type InitKind,
} from '../compiler/index.ts';
import { affine as dense } from '../compiler/index.ts';

const SELF = fileURLToPath(import.meta.url);
const SOURCE = readFileSync(SELF, 'utf8').split(/\r?\n/);
/** This file as gradc shows it: relative to the working directory. */
const SHOWN = relative(process.cwd(), SELF);

/** The 1-based line carrying `// @marker`; it must occur exactly once. */
function lineOf(marker: string): number {
  const tag = `// @${marker}`;
  const hits = SOURCE.flatMap((l, i) => (l.trimEnd().endsWith(tag) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker ${tag} occurs ${hits.length} times in ${SELF}`);
  return hits[0];
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `test/errors-dsl.test.ts:NN` for a marker. */
function at(marker: string): string {
  return `${SHOWN}:${lineOf(marker)}`;
}

/** Runs `fn`, which must throw a one-line GradcError; returns it. */
function buildError(fn: () => unknown): GradcError {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (e) {
    threw = true;
    caught = e;
  }
  expect(threw, 'expected the graph build to throw').toBe(true);
  expect(caught).toBeInstanceOf(Error);
  const e = caught as Error;
  // A TypeError from inside gradc is a crash, not a diagnosis.
  expect(e.name, `expected a GradcError, got ${e.name}: ${e.message}`).toBe('GradcError');
  expect(e).toBeInstanceOf(GradcError);
  expect(e.message, 'a gradc error message must be one line').not.toMatch(/[\r\n]/);
  return e as GradcError;
}

/** The error's message starts with `subject at file:line: `. */
function expectHead(e: Error, subject: string, marker: string): void {
  expect(e.message.startsWith(`${subject} at ${at(marker)}: `), `message: ${e.message}\nexpected to start with: ${subject} at ${at(marker)}: `).toBe(true);
}

/** A graph with one used input, so a test can focus on one faulty call. */
const X = (g: GraphContext) => g.input('x', [64, 4]);

describe('shape errors name the call, the arguments as written, both shapes and the line', () => {
  it('affine: input columns differ from weight rows', () => {
    const e = buildError(() =>
      graph('mlp', (g) => {
        const x = g.input('x', [64, 4]);
        const y = g.input('y', [64, 1]);
        const W1 = g.param('W1', [4, 3]);
        const b1 = g.param('b1', [3]);
        const W2 = g.param('W2', [4, 1]);
        const b2 = g.param('b2', [1]);
        const h = relu(affine(x, W1, b1));
        const o = affine(h, W2, b2); // @affine-mismatch
        g.output('price', o);
        g.loss(squaredLoss(o, y));
      }),
    );
    expect(e.message).toMatch(new RegExp(`^affine\\(h, W2, b2\\) at ${esc(at('affine-mismatch'))}: h is \\[64,3\\] but W2 is \\[4,1\\]`));
    expect(e.message).toMatch(/errors-dsl\.test\.ts:\d+/);
    expect(e.subject).toBe('affine(h, W2, b2)');
    expect(e.loc?.line).toBe(lineOf('affine-mismatch'));
  });

  it('affine: bias length differs from weight columns', () => {
    const e = buildError(() =>
      graph('mlp', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3]);
        const bias = g.param('bias', [2]);
        g.output('o', affine(x, W, bias)); // @affine-bias
      }),
    );
    expectHead(e, 'affine(x, W, bias)', 'affine-bias');
    expect(e.message).toMatch(/: W is \[4,3\] but bias is \[2\]/);
  });

  it('affine with inline params quotes the arguments exactly as written', () => {
    const e = buildError(() =>
      graph('mlp', (g) => {
        const x = X(g);
        g.output('o', affine(x, g.param('W', [5, 3]), g.param('b', [3]))); // @affine-inline
      }),
    );
    expectHead(e, "affine(x, g.param('W', [5, 3]), g.param('b', [3]))", 'affine-inline');
    expect(e.message).toMatch(/: x is \[64,4\] but g\.param\('W', \[5, 3\]\) is \[5,3\]/);
  });

  it('affine spread over several lines is quoted on one line, at the line of the call', () => {
    const e = buildError(() =>
      graph('mlp', (g) => {
        const h = g.input('h', [64, 3]);
        const W2 = g.param('W2', [4, 1]);
        const b2 = g.param('b2', [1]);
        const o = affine( // @affine-multiline
          h,
          W2,
          b2,
        );
        g.output('o', o);
      }),
    );
    expect(e.message).toContain(`at ${at('affine-multiline')}: `);
    expect(e.message).toMatch(/h is \[64,3\] but W2 is \[4,1\]/);
  });

  it('an aliased import falls back to the variable and declared names', () => {
    const e = buildError(() =>
      graph('mlp', (g) => {
        const x = X(g);
        const h = relu(dense(x, g.param('W1', [4, 3]), g.param('b1', [3])));
        const o = dense(h, g.param('W2', [4, 1]), g.param('b2', [1])); // @affine-alias
        g.output('o', o);
      }),
    );
    expectHead(e, 'affine(h, W2, b2)', 'affine-alias');
    expect(e.message).toMatch(/: h is \[64,3\] but W2 is \[4,1\]$/);
  });

  it('matmul: inner dimensions differ', () => {
    const e = buildError(() =>
      graph('mm', (g) => {
        const a = g.input('a', [8, 4]);
        const B = g.param('B', [5, 2]);
        g.output('o', matmul(a, B)); // @matmul-inner
      }),
    );
    expectHead(e, 'matmul(a, B)', 'matmul-inner');
    expect(e.message).toMatch(/: a is \[8,4\] but B is \[5,2\]: inner dimensions 4 and 5 differ$/);
  });

  it('matmul: a dynamic batch as an inner dimension is named as one (B≤32), not as its stored −32', () => {
    const e = buildError(() =>
      graph('mm', (g) => {
        const x = g.input('x', [g.batch(32), 4]);
        const W = g.param('W', [2, 32]);
        g.output('o', matmul(W, x)); // @matmul-batch
      }),
    );
    expectHead(e, 'matmul(W, x)', 'matmul-batch');
    expect(e.message).toMatch(/: W is \[2,32\] but x is \[B≤32,4\]: inner dimensions 32 and B≤32 differ$/);
  });

  it('matmul: an operand that is not a matrix', () => {
    const e = buildError(() =>
      graph('mm', (g) => {
        const a = g.input('a', [8, 4]);
        const v = g.param('v', [4]);
        g.output('o', matmul(a, v)); // @matmul-rank
      }),
    );
    expectHead(e, 'matmul(a, v)', 'matmul-rank');
    expect(e.message).toMatch(/: v is \[4\] but a matrix product needs two rank-2 operands$/);
  });

  it('elementwise ops: shapes that do not broadcast', () => {
    const e = buildError(() =>
      graph('ew', (g) => {
        const a = g.input('a', [8, 4]);
        const c = g.input('c', [8, 3]);
        g.output('o', add(a, c)); // @add-broadcast
      }),
    );
    expectHead(e, 'add(a, c)', 'add-broadcast');
    expect(e.message).toMatch(/: c is \[8,3\] but a is \[8,4\]/);
  });

  it('squaredLoss: prediction and target shapes differ', () => {
    const e = buildError(() =>
      graph('sq', (g) => {
        const pred = g.input('pred', [64, 1]);
        const target = g.input('target', [64, 2]);
        g.loss(squaredLoss(pred, target)); // @sq-mismatch
      }),
    );
    expectHead(e, 'squaredLoss(pred, target)', 'sq-mismatch');
    expect(e.message).toMatch(/: pred is \[64,1\] but target is \[64,2\]$/);
  });
});

describe('ranks', () => {
  it('a param of rank 3', () => {
    const e = buildError(() =>
      graph('r', (g) => {
        const W = g.param('W', [2, 3, 4]); // @rank3
        g.output('o', relu(W));
      }),
    );
    expectHead(e, "param 'W'", 'rank3');
    expect(e.message).toMatch(/the shape \[2,3,4\] has rank 3; gradc supports ranks 0 to 2$/);
  });

  it('an input of rank 4', () => {
    const e = buildError(() =>
      graph('r', (g) => {
        g.output('o', relu(g.input('img', [1, 2, 3, 4]))); // @rank4
      }),
    );
    expectHead(e, "input 'img'", 'rank4');
    expect(e.message).toMatch(/has rank 4/);
  });

  it('a bias of rank 2 in affine', () => {
    const e = buildError(() =>
      graph('r', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3]);
        const b = g.param('b', [1, 3]);
        g.output('o', affine(x, W, b)); // @bias-rank2
      }),
    );
    expectHead(e, 'affine(x, W, b)', 'bias-rank2');
    expect(e.message).toMatch(/: b is \[1,3\] but the bias of an affine layer must be \[out\]$/);
  });

  it('a weight of rank 1 in affine', () => {
    const e = buildError(() =>
      graph('r', (g) => {
        const x = X(g);
        const w = g.param('w', [4]);
        const b = g.param('b', [3]);
        g.output('o', affine(x, w, b)); // @weight-rank1
      }),
    );
    expectHead(e, 'affine(x, w, b)', 'weight-rank1');
    expect(e.message).toMatch(/: w is \[4\] but the weight of an affine layer must be \[in,out\]$/);
  });

  it('an input of rank 1 in affine', () => {
    const e = buildError(() =>
      graph('r', (g) => {
        const v = g.input('v', [4]);
        g.output('o', affine(v, g.param('W', [4, 3]), g.param('b', [3]))); // @input-rank1
      }),
    );
    expect(e.message).toContain(`at ${at('input-rank1')}: `);
    expect(e.message).toMatch(/: v is \[4\] but the input of an affine layer must be \[batch,in\]$/);
  });
});

describe('dimensions must be positive integers', () => {
  const cases: [string, unknown, RegExp][] = [
    ['zero', [0, 4], /the shape \[0,4\] has dimension 0; dimensions must be positive integers$/],
    ['negative', [64, -4], /the shape \[64,-4\] has dimension -4; dimensions must be positive integers$/],
    ['non-integer', [2.5, 4], /the shape \[2\.5,4\] has dimension 2\.5; dimensions must be positive integers$/],
    ['NaN', [NaN], /has dimension NaN; dimensions must be positive integers$/],
    ['Infinity', [Infinity, 2], /has dimension Infinity; dimensions must be positive integers$/],
    ['a string', ['64', 4], /has dimension "64"; dimensions must be positive integers$/],
    ['too large', [2 ** 31], /dimension 2147483648 exceeds gradc's limit of 2\^30$/],
    ['not an array', 64, /the shape must be an array of dimensions, got number$/],
    ['null', null, /the shape must be an array of dimensions, got null$/],
  ];
  it.each(cases)('input shape: %s', (_, shape, detail) => {
    const e = buildError(() =>
      graph('d', (g) => {
        g.output('o', relu(g.input('x', shape as number[]))); // @bad-input-dim
      }),
    );
    expectHead(e, "input 'x'", 'bad-input-dim');
    expect(e.message).toMatch(detail);
  });
  it.each(cases)('param shape: %s', (_, shape, detail) => {
    const e = buildError(() =>
      graph('d', (g) => {
        const x = X(g);
        g.output('o', add(x, g.param('p', shape as number[]))); // @bad-param-dim
      }),
    );
    expectHead(e, "param 'p'", 'bad-param-dim');
    expect(e.message).toMatch(detail);
  });
});

describe('names', () => {
  it('an input and a param with the same name', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = g.input('w', [64, 4]); // @dup-first
        const W = g.param('w', [4, 3]); // @dup-second
        g.output('o', matmul(x, W));
      }),
    );
    expectHead(e, "param 'w'", 'dup-second');
    expect(e.message).toMatch(new RegExp(`the name is already used by the input declared at ${esc(at('dup-first'))}$`));
  });

  it('two inputs with the same name', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        const a = g.input('x', [2, 2]); // @dup-input-first
        const b = g.input('x', [2, 2]); // @dup-input-second
        g.output('o', add(a, b));
      }),
    );
    expectHead(e, "input 'x'", 'dup-input-second');
    expect(e.message).toContain(`declared at ${at('dup-input-first')}`);
  });

  it('an output named like an input', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = g.input('x', [2, 2]); // @out-vs-input-decl
        g.output('x', relu(x)); // @out-vs-input
      }),
    );
    expectHead(e, "output 'x'", 'out-vs-input');
    expect(e.message).toMatch(new RegExp(`already used by the input declared at ${esc(at('out-vs-input-decl'))}$`));
  });

  it('two outputs with the same name', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = g.input('x', [2, 2]);
        g.output('o', relu(x)); // @two-outputs-first
        g.output('o', sigmoid(x)); // @two-outputs-second
      }),
    );
    expectHead(e, "output 'o'", 'two-outputs-second');
    expect(e.message).toContain(`by the output declared at ${at('two-outputs-first')}`);
  });

  const collisions: [string, string][] = [
    ['a-b', 'a_b'],
    ['a_b', 'a-b'],
    ['a.b', 'a_b'],
    ['a-b', 'a.b'],
  ];
  it.each(collisions)("'%s' then '%s' collide after sanitization", (first, second) => {
    const e = buildError(() =>
      graph('n', (g) => {
        const a = g.input(first, [2, 2]); // @collide-first
        const b = g.param(second, [2, 2]); // @collide-second
        g.output('o', add(a, b));
      }),
    );
    expectHead(e, `param '${second}'`, 'collide-second');
    expect(e.message).toContain(`collides with ${JSON.stringify(first)} once '-' and '.' become '_'`);
    expect(e.message).toContain(`by the input declared at ${at('collide-first')}`);
  });

  it('an output colliding with a param after sanitization', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = g.input('x', [2, 2]);
        const p = g.param('w.1', [2, 2]);
        g.output('w_1', mul(x, p)); // @collide-output
      }),
    );
    expectHead(e, "output 'w_1'", 'collide-output');
    expect(e.message).toContain('collides with "w.1"');
  });

  const invalid: [string, string, RegExp][] = [
    ['starting with a digit', '3x', /is not an identifier/],
    ['empty', '', /the name is empty/],
    ['code injection', 'x; process.exit()', /is not an identifier/],
    ['a single quote', "x'y", /is not an identifier/],
    ['a double quote', 'x"y', /is not an identifier/],
    ['a newline', 'x\ny', /is not an identifier/],
    ['a carriage return', 'x\r\ny', /is not an identifier/],
    ['a comment close', 'x*/y', /is not an identifier/],
    ['a comment open', '/*x', /is not an identifier/],
    ['a backtick', 'x`y', /is not an identifier/],
    ['a template hole', '${x}', /is not an identifier/],
    ['a space', 'hidden layer', /is not an identifier/],
    ['a non-ASCII letter', 'größe', /has the character U\+00F6 \("ö"\): names become identifiers and file names, so use ASCII letters/],
    ['a Cyrillic a that looks like a Latin one', 'l\u0430yer', /has the character U\+0430 \("а"\)/],
    ['a zero-width space, named by its code point alone', 'a\u200bb', /has the character U\+200B: names become/],
    ['an emoji', 'w\u{1F600}', /has the character U\+1F600 \("\u{1F600}"\)/u],
    ['__proto__', '__proto__', /starts with '__', which gradc reserves/],
    ['a leading dash that sanitizes to __', '-_x', /starts with '__', which gradc reserves/],
    ['constructor', 'constructor', /is reserved in JavaScript or WGSL/],
    ['hasOwnProperty', 'hasOwnProperty', /is reserved in JavaScript or WGSL/],
    ['toString', 'toString', /is reserved in JavaScript or WGSL/],
    ['the reserved word class', 'class', /is reserved in JavaScript or WGSL/],
    ['the reserved word function', 'function', /is reserved in JavaScript or WGSL/],
    ['the reserved word await', 'await', /is reserved in JavaScript or WGSL/],
    ['a WGSL keyword', 'fn', /is reserved in JavaScript or WGSL/],
    ['a WGSL type', 'vec4', /is reserved in JavaScript or WGSL/],
    ['too long', 'w'.repeat(65), /is longer than 64 characters/],
  ];

  it.each(invalid)('an input name %s is rejected', (_, name, detail) => {
    const e = buildError(() =>
      graph('n', (g) => {
        g.output('o', relu(g.input(name, [2, 2]))); // @bad-input-name
      }),
    );
    expectHead(e, `input ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}`, 'bad-input-name');
    expect(e.message).toMatch(detail);
  });

  it.each(invalid)('a param name %s is rejected', (_, name, detail) => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = X(g);
        g.output('o', add(x, g.param(name, [4]))); // @bad-param-name
      }),
    );
    expect(e.message).toContain(`at ${at('bad-param-name')}: `);
    expect(e.message).toMatch(/^param /);
    expect(e.message).toMatch(detail);
  });

  it.each(invalid)('an output name %s is rejected', (_, name, detail) => {
    const e = buildError(() =>
      graph('n', (g) => {
        const x = X(g);
        g.output(name, relu(x)); // @bad-output-name
      }),
    );
    expect(e.message).toContain(`at ${at('bad-output-name')}: `);
    expect(e.message).toMatch(/^output /);
    expect(e.message).toMatch(detail);
  });

  it.each(invalid)('a graph name %s is rejected', (_, name, detail) => {
    const e = buildError(() =>
      graph(name, (g) => { // @bad-graph-name
        g.output('o', relu(X(g)));
      }),
    );
    expect(e.message).toContain(`at ${at('bad-graph-name')}: `);
    expect(e.message).toMatch(/^graph /);
    expect(e.message).toMatch(detail);
  });

  // Graph names also name the files: one ending in a word of gradc's file kinds would pass
  // for another graph's module (m.gpu.js is graph m's WebGPU module) or a graph file.
  it.each([['a.graph', 'graph'], ['m.gpu', 'gpu'], ['m.WASM', 'wasm'], ['types.d', 'd']])('the graph name %s, whose files would pass for another kind of gradc file, is rejected', (name, word) => {
    const e = buildError(() =>
      graph(name, (g) => { // @kind-graph-name
        g.output('o', relu(X(g)));
      }),
    );
    expect(e.message).toContain(`at ${at('kind-graph-name')}: `);
    expect(e.message).toContain(`the graph name "${name}" ends in '.${word}', so its files (${name}.ts, ${name}.js) would pass for another kind of gradc file`);
    expect(e.message).toContain("a graph name may not end in '.graph', '.d', '.gpu', '.wasm': use '_' or '-'");
  });

  it.each(['a.graphs', 'net-a.v1', 'gpu.model', 'd'])('the graph name %s, dotted or not, is accepted', (name) => {
    expect(graph(name, (g) => g.output('o', relu(X(g)))).name).toBe(name);
  });

  it.each(['gradc-host', 'Gradc-Host'])('the graph name %s, which the host file beside the modules has, is rejected', (name) => {
    const e = buildError(() =>
      graph(name, (g) => { // @host-graph-name
        g.output('o', relu(X(g)));
      }),
    );
    expect(e.message).toContain(`at ${at('host-graph-name')}: `);
    expect(e.message).toMatch(/the name is gradc's: its modules import gradc-host\.js, written beside them/);
  });

  it('a name that is not a string', () => {
    const e = buildError(() =>
      graph('n', (g) => {
        g.output('o', relu(g.input(42 as unknown as string, [2, 2]))); // @name-number
      }),
    );
    expectHead(e, 'input "42"', 'name-number');
    expect(e.message).toMatch(/the name must be a string, got number$/);
  });

  it('names that only look odd are accepted', () => {
    const def = graph('ok-names', (g) => {
      const x = g.input('x.in', [2, 2]);
      const w = g.param('layer-1.W', [2, 2]);
      g.output('out_1', matmul(x, w));
    });
    expect(def.ir.inputs.map((r) => r.name)).toEqual(['x.in']);
    expect(def.ir.params.map((r) => r.name)).toEqual(['layer-1.W']);
  });
});

describe('params', () => {
  it('an unknown init kind', () => {
    const e = buildError(() =>
      graph('p', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3], { init: 'uniform' as InitKind }); // @bad-init
        g.output('o', matmul(x, W));
      }),
    );
    expect(e.message).toContain(`at ${at('bad-init')}: `);
    expect(e.message).toMatch(/^param ["']W["'] at /);
    expect(e.message).toMatch(/init "uniform" is not one of he, xavier, normal, zeros$/);
  });

  it('an unused param names its declaration', () => {
    const e = buildError(() =>
      graph('p', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3]);
        g.param('spare', [3]); // @unused-param
        g.output('o', matmul(x, W));
      }),
    );
    expectHead(e, "param 'spare'", 'unused-param');
    expect(e.message).toMatch(/is declared but affects no output and not the loss; remove it or use it$/);
  });

  it('a param that only feeds a dropped value is unused', () => {
    const e = buildError(() =>
      graph('p', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3]);
        const V = g.param('V', [4, 3]); // @unused-param-2
        mul(x, 2);
        add(matmul(x, V), 1);
        g.output('o', matmul(x, W));
      }),
    );
    expectHead(e, "param 'V'", 'unused-param-2');
  });

  it('an unused input names its declaration', () => {
    const e = buildError(() =>
      graph('p', (g) => {
        const x = X(g);
        g.input('labels', [64, 1]); // @unused-input
        g.output('o', relu(x));
      }),
    );
    expectHead(e, "input 'labels'", 'unused-input');
    expect(e.message).toMatch(/is declared but affects no output and not the loss/);
  });
});

describe('outputs and the loss', () => {
  it('a loss that is not a scalar', () => {
    const e = buildError(() =>
      graph('l', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 1]);
        const pred = matmul(x, W);
        g.loss(pred); // @loss-not-scalar
      }),
    );
    expectHead(e, 'loss(pred)', 'loss-not-scalar');
    expect(e.message).toMatch(/the loss must be a scalar but pred is \[64,1\]; reduce it with squaredLoss, sum or mean$/);
  });

  it('a loss set twice names both lines', () => {
    const e = buildError(() =>
      graph('l', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 1]);
        const y = g.input('y', [64, 1]);
        const pred = matmul(x, W);
        g.loss(squaredLoss(pred, y)); // @loss-first
        g.loss(mean(pred)); // @loss-second
      }),
    );
    expectHead(e, 'loss(mean(pred))', 'loss-second');
    expect(e.message).toMatch(new RegExp(`graph 'l' already has a loss, set at ${esc(at('loss-first'))}$`));
  });

  it('no output and no loss points at the graph call', () => {
    const e = buildError(() =>
      graph('empty', (g) => { // @no-outputs
        const x = X(g);
        relu(x);
      }),
    );
    expectHead(e, "graph 'empty'", 'no-outputs');
    expect(e.message).toMatch(/declares no output and no loss; call g\.output\(name, t\) or g\.loss\(t\)$/);
  });

  it('an empty builder', () => {
    const e = buildError(() => graph('nothing', () => {})); // @empty-builder
    expectHead(e, "graph 'nothing'", 'empty-builder');
  });

  it('a builder that is not a function', () => {
    const e = buildError(() => graph('nofn', 42 as unknown as () => void)); // @not-fn
    expectHead(e, "graph 'nofn'", 'not-fn');
    expect(e.message).toMatch(/the second argument must be a function/);
  });
});

describe('arguments that are not tensors of this graph', () => {
  it('a string passed to an activation', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        relu(x);
        g.output('o', tanh('x' as unknown as Tensor)); // @string-arg
      }),
    );
    expectHead(e, "tanh('x' as unknown as Tensor)", 'string-arg');
    expect(e.message).toMatch(/argument 1 \('x' as unknown as Tensor\) is string, expected a tensor$/);
  });

  it('null passed to add', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        const nothing = null as unknown as Tensor;
        g.output('o', add(x, nothing)); // @null-arg
      }),
    );
    expectHead(e, 'add(x, nothing)', 'null-arg');
    expect(e.message).toMatch(/argument 2 \(nothing\) is null, expected a tensor$/);
  });

  it('an array passed to affine as the weight', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        const weights = [[1, 2, 3]] as unknown as Tensor;
        g.output('o', affine(x, weights, g.param('b', [3]))); // @array-arg
      }),
    );
    expect(e.message).toContain(`at ${at('array-arg')}: `);
    expect(e.message).toMatch(/argument 2 \(weights\) is an array, expected a tensor$/);
  });

  it('a plain object passed to matmul', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        const W = { shape: [4, 3] } as unknown as Tensor;
        g.output('o', matmul(x, W)); // @object-arg
      }),
    );
    expectHead(e, 'matmul(x, W)', 'object-arg');
    expect(e.message).toMatch(/argument 2 \(W\) is object, expected a tensor$/);
  });

  it('a number passed to affine as the bias', () => {
    // Numbers are accepted as constants by elementwise ops; affine must still diagnose, not crash.
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        const W = g.param('W', [4, 3]);
        g.output('o', affine(x, W, 5 as unknown as Tensor)); // @number-bias
      }),
    );
    expect(e.message).toContain(`at ${at('number-bias')}: `);
    expect(e.message).toMatch(/^affine\(x, W, 5 as unknown as Tensor\) at /);
    expect(e.message).toMatch(/tensor|must be \[out\]/);
  });

  it('a number passed to affine as the weight', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        g.output('o', affine(x, 2 as unknown as Tensor, g.param('b', [3]))); // @number-weight
      }),
    );
    expect(e.message).toContain(`at ${at('number-weight')}: `);
    expect(e.message).toMatch(/tensor|must be \[in,out\]/);
  });

  it('only numbers: no tensor argument at all', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        g.output('a', x);
        g.output('o', sub(1 as unknown as Tensor, 2)); // @numbers-only
      }),
    );
    expectHead(e, 'sub(1 as unknown as Tensor, 2)', 'numbers-only');
    expect(e.message).toMatch(/needs at least one tensor argument$/);
  });

  it('a non-finite constant', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        g.output('o', mul(x, Infinity)); // @inf-const
      }),
    );
    expectHead(e, 'mul(x, Infinity)', 'inf-const');
    expect(e.message).toMatch(/argument 2 is Infinity; constants must be finite$/);
  });

  it('g.output with something that is not a tensor', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        relu(x);
        g.output('o', 'x' as unknown as Tensor); // @output-string
      }),
    );
    expect(e.message).toContain(`at ${at('output-string')}: `);
    expect(e.message).toMatch(/is string, expected a tensor of graph 't'$/);
  });

  it('g.loss with a number', () => {
    const e = buildError(() =>
      graph('t', (g) => {
        const x = X(g);
        g.output('o', x);
        g.loss(0 as unknown as Tensor); // @loss-number
      }),
    );
    expect(e.message).toContain(`at ${at('loss-number')}: `);
  });
});

describe('tensors of two graphs', () => {
  it('an op mixing tensors of two graphs (nested builders)', () => {
    const e = buildError(() =>
      graph('outer', (go) => {
        const a = go.input('a', [2, 2]);
        go.output('o', a);
        graph('inner', (gi) => {
          const b = gi.input('b', [2, 2]);
          gi.output('o', add(b, a)); // @mix-op
        });
      }),
    );
    expectHead(e, 'add(b, a)', 'mix-op');
    expect(e.message).toMatch(/mixes tensors of graphs 'inner' and 'outer'$/);
  });

  it('an op mixing a tensor of a finished graph with one of the graph being built', () => {
    let leaked: Tensor | undefined;
    graph('first', (g) => {
      leaked = g.input('x', [2, 2]);
      g.output('o', relu(leaked));
    });
    const e = buildError(() =>
      graph('second', (g) => {
        const x = g.input('x', [2, 2]);
        g.output('o', mul(x, leaked!)); // @mix-finished
      }),
    );
    expect(e.message).toContain(`at ${at('mix-finished')}: `);
    expect(e.message).toMatch(/'first'/);
  });

  it("g.output with another graph's tensor", () => {
    const e = buildError(() =>
      graph('outer', (go) => {
        const a = go.input('a', [2, 2]);
        go.output('o', a);
        graph('inner', (gi) => {
          const b = gi.input('b', [2, 2]);
          gi.output('b_out', relu(b));
          gi.output('stolen', a); // @mix-output
        });
      }),
    );
    expect(e.message).toContain(`at ${at('mix-output')}: `);
    expect(e.message).toMatch(/graph/);
    expect(e.message).toMatch(/'outer'/);
  });

  it("g.loss with another graph's tensor", () => {
    const e = buildError(() =>
      graph('outer', (go) => {
        const a = go.input('a', [2, 2]);
        const total = sum(a);
        go.output('o', a);
        graph('inner', (gi) => {
          const b = gi.input('b', [2, 2]);
          gi.output('b_out', relu(b));
          gi.loss(total); // @mix-loss
        });
      }),
    );
    expect(e.message).toContain(`at ${at('mix-loss')}: `);
    expect(e.message).toMatch(/'outer'/);
  });
});

describe('use after the graph is built', () => {
  it('an op on a tensor of a finished graph', () => {
    let kept: Tensor | undefined;
    graph('done', (g) => {
      kept = g.input('x', [2, 2]);
      g.output('o', relu(kept));
    });
    const e = buildError(() => sigmoid(kept!)); // @after-op
    expectHead(e, 'sigmoid(kept!)', 'after-op');
    expect(e.message).toMatch(/graph 'done' is already built; tensors can only be used inside its builder function$/);
  });

  it('declaring an input through a kept context', () => {
    let ctx: GraphContext | undefined;
    graph('done', (g) => {
      ctx = g;
      g.output('o', relu(g.input('x', [2, 2])));
    });
    const e = buildError(() => ctx!.input('late', [2, 2])); // @after-input
    expect(e.message).toContain(`at ${at('after-input')}: `);
    expect(e.message).toMatch(/graph 'done' is already built/);
  });

  it('naming an output through a kept context', () => {
    let ctx: GraphContext | undefined;
    let kept: Tensor | undefined;
    graph('done', (g) => {
      ctx = g;
      kept = g.input('x', [2, 2]);
      g.output('o', relu(kept));
    });
    const e = buildError(() => ctx!.output('late', kept!)); // @after-output
    expect(e.message).toContain(`at ${at('after-output')}: `);
    expect(e.message).toMatch(/graph 'done' is already built/);
  });

  it('setting the loss through a kept context', () => {
    let ctx: GraphContext | undefined;
    let kept: Tensor | undefined;
    graph('done', (g) => {
      ctx = g;
      kept = sum(g.input('x', [2, 2]));
      g.output('o', kept);
    });
    const e = buildError(() => ctx!.loss(kept!)); // @after-loss
    expect(e.message).toContain(`at ${at('after-loss')}: `);
    expect(e.message).toMatch(/graph 'done' is already built/);
  });
});

describe('the builder function', () => {
  it('an async builder is rejected at the graph call', () => {
    const e = buildError(() =>
      graph('later', async (g) => { // @async-builder
        const x = g.input('x', [2, 2]);
        g.output('o', relu(x));
      }),
    );
    expectHead(e, "graph 'later'", 'async-builder');
    expect(e.message).toMatch(/the builder function must be synchronous$/);
  });

  it('a builder returning a promise is rejected', () => {
    const e = buildError(() =>
      graph('later', (g) => { // @promise-builder
        g.output('o', relu(g.input('x', [2, 2])));
        return Promise.resolve() as unknown as void;
      }),
    );
    expectHead(e, "graph 'later'", 'promise-builder');
  });

  it("a user's own error from the builder passes through unchanged", () => {
    const mine = new RangeError('my own problem');
    let caught: unknown;
    try {
      graph('own', () => {
        throw mine;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(mine);
  });
});

describe('names the user mistyped', () => {
  it('a method the graph context does not have: at its line, with the closest one', () => {
    const e = buildError(() =>
      graph('typo', (g) => {
        const x = X(g);
        const W = (g as unknown as Record<string, (n: string, s: number[]) => Tensor>).parm('W', [4, 1]); // @parm
        g.output('o', matmul(x, W));
      }),
    );
    expectHead(e, "parm('W', [4, 1])", 'parm');
    expect(e.message).toMatch(/the graph context has no method 'parm'; did you mean g\.param\? \(its methods: input, param, output, loss, batch, optimizer\)$/);
  });

  it('a name far from every method gets the list only', () => {
    const e = buildError(() =>
      graph('typo', (g) => {
        (g as unknown as Record<string, () => void>).convolution(); // @far
      }),
    );
    expectHead(e, 'convolution()', 'far');
    expect(e.message).toMatch(/has no method 'convolution' \(its methods: input, param, output, loss, batch, optimizer\)$/);
  });

  it('probing the context as tools do is no error', async () => {
    graph('probed', (g) => {
      expect((g as unknown as { then?: unknown }).then).toBeUndefined();
      expect(JSON.stringify(g)).toBe('{}');
      expect(String(g)).toBe('[object Object]');
      g.output('o', relu(X(g)));
    });
  });
});

describe('a graph definition used as a compiled module', () => {
  it('says to import it through the plugin, naming what was read', () => {
    const def = graph('housing', (g) => g.output('o', relu(X(g))));
    const module = def as unknown as { trainStep: (...a: unknown[]) => number; meta: unknown };
    expect(() => module.trainStep({}, {}, 0.1)).toThrow(
      "graph 'housing': is a graph definition, not a compiled module, so it has no 'trainStep'. Import the graph file with '?gradc' through gradc's plugin for your bundler (gradc/vite, gradc/rollup, gradc/webpack or gradc/esbuild), or build it with `gradc build` and import the generated module",
    );
    expect(() => module.meta).toThrow(/no 'meta'/);
    expect(def.name).toBe('housing');
  });
});
