/**
 * The whole build of one graph, in memory: plan once (autodiff, passes, fusion, memory),
 * then lower and render the plan for each target, then compile TypeScript to JavaScript.
 * Pure: the same graph gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { transform, transformSync } from 'esbuild';
import { GradcError } from './errors.ts';
import type { GraphDef } from './dsl/graph.ts';
import { printGraph } from './ir/print.ts';
import { planModule, type ModulePlan } from './kernels/plan.ts';
import { emitTarget, type Backend, type EmittedFile } from './backends/backend.ts';
import { BACKENDS } from './backends/registry.ts';
import { commentText } from './backends/common/text.ts';
import { hostFiles } from './backends/common/runtime-source.ts';
import { VERSION } from './version.ts';
import { DEFAULT_TARGET, TARGETS, type Target } from './targets.ts';
import './ops/all.ts';

export { TARGETS, type Target };
/** Each target's backend, derived from the targets table (compiler/backends/registry.ts). */
export { BACKENDS };

export interface CompileOptions {
  readonly targets?: readonly Target[];
  /** Build forward only: no loss is required and no loss/gradient/trainStep is emitted. */
  readonly forwardOnly?: boolean;
  /** The graph file, for the header comment (only its base name is used). */
  readonly sourceFile?: string;
  /**
   * The wasm target: the least work (FLOPs) of a matrix product that runs split across threads
   * (default `WASM_LOWERING.threads.minFlops`, where waking the threads pays); 0 splits every
   * product of at least two row tiles (the tests' way to thread small graphs).
   */
  readonly wasmSplitFlops?: number;
}

export interface OutputFile {
  /** File name relative to the output folder, e.g. `housing.js`. */
  readonly name: string;
  readonly contents: string;
}

export interface CompileResult {
  /** The plan every target renders; also what `gradc inspect` shows. */
  readonly plan: ModulePlan;
  /** The arena (floats), and its buffers' floats without sharing: the same for every target. */
  readonly memory: { readonly arena: number; readonly unshared: number };
  readonly files: readonly OutputFile[];
}

/** A short hash of the forward graph and its optimizer (when not the default): equal graphs, equal hashes. */
export function graphHash(def: GraphDef): string {
  const choice = def.optimizer?.choice;
  const optimizer = choice && choice.name !== 'sgd' ? `\noptimizer ${JSON.stringify(choice)}` : '';
  return createHash('sha256').update(printGraph(def.ir) + optimizer).digest('hex').slice(0, 12);
}

const TS_OPTIONS = { loader: 'ts', format: 'esm', target: 'es2022' } as const;

/** Everything but the TS → JS step, which `compile` runs synchronously and `compileAsync` on esbuild's service. */
function emitAll(def: GraphDef, options: CompileOptions): { plan: ModulePlan; pending: EmittedFile[] } {
  const targets = options.targets ?? [DEFAULT_TARGET];
  for (const t of targets) {
    if (!TARGETS.includes(t)) throw new GradcError('build', `unknown target ${JSON.stringify(t)}; known targets: ${TARGETS.join(', ')}`);
  }
  const plan = planModule(def, { forwardOnly: options.forwardOnly });
  const info = { version: VERSION, hash: graphHash(def), source: commentText(options.sourceFile ? basename(options.sourceFile) : 'memory') };
  const backendOf = (t: Target): Backend<never> => {
    const b = BACKENDS[t];
    // The split threshold is for the target whose lowering runs on threads (wasm).
    if (options.wasmSplitFlops === undefined || !b.lowering.threads) return b;
    return { ...b, lowering: { ...b.lowering, threads: { ...b.lowering.threads!, minFlops: options.wasmSplitFlops } } };
  };
  const emitted = TARGETS.filter((t) => targets.includes(t)).flatMap((t) => emitTarget(plan, backendOf(t), info).files);
  // Files every CPU target writes (the host file) are written once.
  const pending = emitted.filter((f, i) => emitted.findIndex((o) => o.name === f.name) === i);
  return { plan, pending };
}

const memoryOf = (plan: ModulePlan) => ({ arena: plan.memory.sizes.arena, unshared: plan.memory.unshared });

export function compile(def: GraphDef, options: CompileOptions = {}): CompileResult {
  const { plan, pending } = emitAll(def, options);
  const files = pending.map((f) => ({ name: f.name, contents: f.contents ?? transformSync(f.ts!.source, { ...TS_OPTIONS, banner: f.ts!.banner }).code }));
  return { plan, memory: memoryOf(plan), files };
}

/**
 * The same build, with TypeScript compiled on esbuild's long-lived service instead of a
 * process per file (the synchronous API starts one each call: ~0.1 s of a CLI build).
 */
export async function compileAsync(def: GraphDef, options: CompileOptions = {}): Promise<CompileResult> {
  const { plan, pending } = emitAll(def, options);
  const files = await Promise.all(pending.map(async (f) => ({
    name: f.name,
    contents: f.contents ?? (await transform(f.ts!.source, { ...TS_OPTIONS, banner: f.ts!.banner })).code,
  })));
  return { plan, memory: memoryOf(plan), files };
}

/** The host file's JavaScript (`gradc-host.js`), which every generated JS and wasm module imports. */
let hostJs: Promise<string> | undefined;
export function hostModuleJs(): Promise<string> {
  const file = hostFiles(VERSION).find((f) => f.ts)!;
  return (hostJs ??= transform(file.ts!.source, { ...TS_OPTIONS, banner: file.ts!.banner }).then((r) => r.code));
}
