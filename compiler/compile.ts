/**
 * The whole build of one graph, in memory: plan (autodiff, passes, kernels), emit each
 * target, compile TypeScript to JavaScript. Pure: the same graph gives the same bytes.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { transformSync } from 'esbuild';
import { GradcError } from './errors.ts';
import type { GraphDef } from './dsl/graph.ts';
import { printGraph } from './ir/print.ts';
import { planModule, type ModulePlan } from './codegen/plan.ts';
import { emitJsModule } from './codegen/js/module.ts';
import { VERSION } from './version.ts';
import './ops/all.ts';

export const TARGETS = ['js'] as const;
export type Target = (typeof TARGETS)[number];

export interface CompileOptions {
  readonly targets?: readonly Target[];
  /** Build forward only: no loss is required and no loss/gradient/trainStep is emitted. */
  readonly forwardOnly?: boolean;
  /** The graph file, for the header comment (only its base name is used). */
  readonly sourceFile?: string;
}

export interface OutputFile {
  /** File name relative to the output folder, e.g. `housing.js`. */
  readonly name: string;
  readonly contents: string;
}

export interface CompileResult {
  readonly plan: ModulePlan;
  readonly files: readonly OutputFile[];
}

/** A short hash of the forward graph: equal graphs, equal hashes. */
export function graphHash(def: GraphDef): string {
  return createHash('sha256').update(printGraph(def.ir)).digest('hex').slice(0, 12);
}

export function compile(def: GraphDef, options: CompileOptions = {}): CompileResult {
  const targets = options.targets ?? ['js'];
  for (const t of targets) {
    if (!TARGETS.includes(t)) throw new GradcError('build', `unknown target ${JSON.stringify(t)}; known targets: ${TARGETS.join(', ')}`);
  }
  const plan = planModule(def, { forwardOnly: options.forwardOnly });
  const info = { version: VERSION, hash: graphHash(def), source: options.sourceFile ? basename(options.sourceFile) : 'memory' };
  const files: OutputFile[] = [];
  if (targets.includes('js')) {
    const { ts, dts } = emitJsModule(plan, info);
    const js = transformSync(ts, { loader: 'ts', format: 'esm', target: 'es2022', legalComments: 'inline' }).code;
    files.push({ name: `${def.name}.ts`, contents: ts }, { name: `${def.name}.js`, contents: js }, { name: `${def.name}.d.ts`, contents: dts });
  }
  return { plan, files };
}
