/**
 * Each kernel once: in every generated module, no two kernels have the same body. In the JS
 * module a kernel's buffers are its arguments, so bodies are compared with the buffers named
 * by position (two kernels that differ only in the buffers they touch must be one function);
 * in WGSL and wasm, where a buffer's place is part of the code, bodies are compared as text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { affine, graph, relu, squaredLoss, tanh, type GraphDef } from '../compiler/index.ts';
import kink from '../samples/kink/kink.graph.ts';
import housing from '../samples/housing/housing.graph.ts';
import iris from '../samples/iris/iris.graph.ts';
import digits from '../samples/digits/digits.graph.ts';

/** Three identical hidden layers: the JS module must share their kernels. */
const repeated = graph('repeated', (g) => {
  let h = g.input('x', [16, 8]);
  for (let i = 1; i <= 3; i++) h = tanh(affine(h, g.param(`W${i}`, [8, 8]), g.param(`b${i}`, [8])));
  const o = relu(affine(h, g.param('V', [8, 2]), g.param('c', [2])));
  g.output('o', o);
  g.loss(squaredLoss(o, g.input('y', [16, 2])));
});

/** `name → body` of each function whose header matches `head` (its first capture the name, second its params). */
function bodies(text: string, head: RegExp, positional: boolean): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = head.exec(lines[i]);
    if (!m) continue;
    let j = i;
    // A header may continue over lines; the body ends at the first line that is exactly "}".
    while (!lines[j].endsWith('{')) j++;
    const params = (lines.slice(i, j + 1).join(' ').match(/\(([^)]*)\)/)?.[1] ?? '').split(',').map((p) => p.trim().split(':')[0].trim()).filter(Boolean);
    let end = j + 1;
    while (lines[end] !== '}') end++;
    let body = lines.slice(j + 1, end).join('\n');
    if (positional) params.forEach((p, k) => { body = body.replace(new RegExp(`\\b${p}\\b`, 'g'), `#${k}`); });
    out.set(m[1], body);
  }
  return out;
}

function duplicates(found: Map<string, string>): string[] {
  const seen = new Map<string, string>();
  const twice: string[] = [];
  for (const [name, body] of found) {
    const first = seen.get(body);
    if (first) twice.push(`${first} and ${name}`);
    else seen.set(body, name);
  }
  return twice;
}

const defs: GraphDef[] = [kink, housing, iris, digits, repeated];

describe('each kernel once', () => {
  for (const def of defs) {
    it(`${def.name}: no kernel body appears twice in the JS module or the WGSL`, () => {
      const files = compile(def, { targets: ['js', 'wgsl'] }).files;
      const text = (name: string) => files.find((f) => f.name === name)!.contents!;
      const js = bodies(text(`${def.name}.ts`), /^function (k_\w+)\(/, true);
      const wgsl = bodies(text(`${def.name}.wgsl`), /^fn (k_\w+)\(/, false);
      expect(js.size).toBeGreaterThan(1);
      expect(wgsl.size).toBeGreaterThan(1);
      expect(duplicates(js), 'JS').toEqual([]);
      expect(duplicates(wgsl), 'WGSL').toEqual([]);
    });
  }

  it('the check sees a repeated body: identical layers would repeat without sharing', () => {
    const files = compile(repeated, { targets: ['js'] }).files;
    const ts = files.find((f) => f.name === 'repeated.ts')!.contents!;
    expect(ts).toMatch(/Shared by \d+ kernels of this form/);
    const twice = new Map([['k_a', '  #0[0] = 1;'], ['k_b', '  #0[0] = 1;']]);
    expect(duplicates(twice)).toEqual(['k_a and k_b']);
  });
});

/**
 * What a reviewer reads stays small (issue 9): the files `gradc build` writes for the housing,
 * iris and kink samples with `--target js,wgsl` total at most half of the 377,441 bytes the
 * templaters wrote, `housing.ts` is at most 450 lines, and no line is longer than 140
 * characters. The modules import their graph-independent host code, written once.
 */
describe('the size of what the build writes', () => {
  const files = [kink, housing, iris].flatMap((def) => compile(def, { targets: ['js', 'wgsl'], sourceFile: `${def.name}.graph.ts` }).files);
  const written = new Map(files.map((f) => [f.name, f.contents]));

  it('the three samples\' graph files total at most 167,907 bytes, the host file at most 56,250; housing.ts at most 450 lines; no line over 140 characters', () => {
    expect(written.size).toBe(3 * 6 + 2);
    const size = (names: string[]) => names.reduce((n, name) => n + Buffer.byteLength(written.get(name)!), 0);
    const host = ['gradc-host.ts', 'gradc-host.js'];
    // Issue 9's 188,720 bytes, less the 20,813 its host file took then: what each graph adds.
    expect(size([...written.keys()].filter((name) => !host.includes(name)))).toBeLessThanOrEqual(167_907);
    // The host file is written once per build, whatever the graphs, and has grown since by what
    // later issues asked of every call (issue 19's label checks, issue 23's argument checks)
    // and by the wasm threads (runtime/threads.ts, issue 21): capped apart. (56,000 until issue 23
    // refused a state given to a stateless train step: checkRate's third argument, 250 bytes.)
    expect(written.get('gradc-host.ts')).toContain(readFileSync(new URL('../runtime/threads.ts', import.meta.url), 'utf8'));
    expect(size(host)).toBeLessThanOrEqual(56_250);
    expect(written.get('housing.ts')!.split('\n').length).toBeLessThanOrEqual(450);
    for (const [name, text] of written) for (const line of text.split('\n')) expect(line.length, `${name}: ${line}`).toBeLessThanOrEqual(140);
  });

  it('each module imports the host file once and calls what it imports; no module embeds the checks', () => {
    for (const name of ['housing.ts', 'iris.ts', 'kink.ts']) {
      const text = written.get(name)!;
      expect(text.match(/^import .* from '\.\/gradc-host\.js';$/gm), name).toHaveLength(1);
      expect(text).not.toMatch(/^function (take|checkArray|checkDisjoint)\b/m);
    }
  });
});
