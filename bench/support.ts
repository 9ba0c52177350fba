/**
 * Small helpers of the benchmark: loading a generated module the way a user would,
 * deterministic data, and the agreement check between contenders.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile } from '../compiler/compile.ts';
import type { GraphDef } from '../compiler/index.ts';

export type Arrays = Record<string, Float32Array>;

/** The generated module's exports (spec/abi.md). A --forward-only build has only the first three. */
export interface GeneratedModule {
  meta: { name: string; inputs: Record<string, readonly number[]>; params: Record<string, readonly number[]>; outputs: Record<string, readonly number[]> };
  initParams(seed?: number): Arrays;
  forward(params: Arrays, inputs: Arrays): Arrays;
  loss(params: Arrays, inputs: Arrays): number;
  gradient(params: Arrays, inputs: Arrays): { loss: number; grads: Arrays };
  trainStep(params: Arrays, inputs: Arrays, learningRate: number): number;
}

let tempDir: string | undefined;
let counter = 0;

/**
 * Compiles a graph in process, writes its `<name>.js` (target wasm: `<name>.wasm.js`) to a temp
 * folder and imports it; `edit` changes the module's text first (see `withoutTrainChecks`).
 */
export async function buildModule(
  def: GraphDef, forwardOnly: boolean, target: 'js' | 'wasm' = 'js', edit: (js: string) => string = (js) => js,
): Promise<{ module: GeneratedModule; compileMs: number }> {
  const t0 = performance.now();
  const { files } = compile(def, { forwardOnly, targets: [target] });
  const compileMs = performance.now() - t0;
  const file = `${def.name}${target === 'js' ? '' : `.${target}`}.js`;
  const js = files.find((f) => f.name === file);
  if (!js) throw new Error(`gradc: compile() produced no ${file}`);
  tempDir ??= mkdtempSync(join(tmpdir(), 'gradc-bench-'));
  const path = join(tempDir, `${counter++}-${js.name.replace(/\.js$/, '.mjs')}`);
  writeFileSync(path, edit(js.contents));
  // The host file the module imports, as the CLI writes it beside the modules (ES modules, as in
  // any project that imports them: tsx would otherwise load a .js without a package type as CommonJS).
  for (const f of files) if (f.name === 'gradc-host.js') writeFileSync(join(tempDir, f.name), f.contents);
  writeFileSync(join(tempDir, 'package.json'), '{ "type": "module" }\n');
  const module = (await import(pathToFileURL(path).href)) as GeneratedModule;
  return { module, compileMs };
}

/** The checks a train step makes beyond validating its arguments' types and shapes. */
export type TrainCheck = 'arguments' | 'update';

/**
 * A generated module's JS with some of its train step's checks cut out, to measure what they
 * cost: `arguments`, the scans before any kernel runs (every param finite, no two arrays
 * sharing memory); `update`, the pass that computes every new value before any is written
 * (the `*_check` kernels) and the test of its status. Throws when the text is not as
 * expected, rather than measuring a module that still checks.
 */
export function withoutTrainChecks(js: string, cut: readonly TrainCheck[]): string {
  const start = js.indexOf('function trainStep(');
  const end = js.indexOf('\n}\n', start);
  if (start < 0 || end < 0) throw new Error('bench: the generated module has no trainStep function');
  const lines = js.slice(start, end).split('\n');
  const kept: string[] = [];
  const removed = { arguments: 0, update: 0 };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (cut.includes('arguments') && /^\s*(checkFinite\("trainStep", "params"|checkDisjoint\("trainStep")/.test(line) && line.endsWith(');')) {
      removed.arguments++;
      continue;
    }
    if (cut.includes('update') && /^\s*k_\w+_check\(.*\);$/.test(line)) {
      removed.update++;
      continue;
    }
    if (cut.includes('update') && /^\s*if \(status\[0\] !== 0\) \{$/.test(line)) {
      const indent = line.match(/^\s*/)![0];
      while (lines[i] !== `${indent}}`) i++;
      removed.update++;
      continue;
    }
    kept.push(line);
  }
  for (const c of cut) if (removed[c] === 0) throw new Error(`bench: found no ${c} checks to cut out of trainStep`);
  return js.slice(0, start) + kept.join('\n') + js.slice(end);
}

export function removeTempDir(): void {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

/** Deterministic data: values in [-scale, scale), from a 32-bit xorshift. */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

export function cloneArrays(a: Arrays): Arrays {
  const out: Arrays = {};
  for (const [k, v] of Object.entries(a)) out[k] = v.slice();
  return out;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * How far `got` is from `want`, relative to the largest magnitude in `want` (a max-norm
 * relative error: elementwise relative errors are meaningless for entries near zero).
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxDiff)) maxDiff = d; // NaN propagates
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  if (Number.isNaN(maxDiff)) return NaN;
  return maxDiff === 0 ? 0 : maxDiff / Math.max(maxRef, 1e-30);
}

export class DisagreementError extends Error {}

/**
 * Checks a peer against gradc on named values (loss, outputs, gradients). Throws a
 * DisagreementError naming every value off by more than `rtol`; returns the worst error.
 */
export function checkAgreement(what: string, peer: string, pairs: readonly { name: string; got: ArrayLike<number>; want: ArrayLike<number> }[], rtol: number): number {
  const bad: string[] = [];
  let worst = 0;
  for (const { name, got, want } of pairs) {
    const err = relativeError(got, want);
    if (!(err <= rtol)) bad.push(`${name}: relative error ${err.toExponential(2)}${got.length !== want.length ? ` (length ${got.length}, expected ${want.length})` : ''}`);
    else worst = Math.max(worst, err);
  }
  if (bad.length) {
    throw new DisagreementError(`${what}: ${peer} disagrees with gradc beyond rtol ${rtol}: ${bad.join('; ')}`);
  }
  return worst;
}
