/**
 * gradc/module declares the generated modules' API once: every golden module (JS, wasm, WebGPU) satisfies it
 * with its own records (checked by tsc, which `npm test` runs first), and has exactly the
 * declared members at run time. The WebGPU host is written as .js and .d.ts; the TypeScript it
 * is compiled from is type-checked here, tables included (`satisfies GpuModuleTables`).
 */
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { emitTarget } from '../compiler/backends/backend.ts';
import { backend as wgslBackend } from '../compiler/backends/wgsl/module.ts';
import { planModule } from '../compiler/kernels/plan.ts';
import digitsGraph from '../samples/digits/digits.graph.ts';
import housingGraph from '../samples/housing/housing.graph.ts';
import type { CpuModule, GpuModel, GpuModule } from '../runtime/module.ts';
import * as housing from './golden/housing.ts';
import * as housingGpu from './golden/housing.gpu.js';
import * as housingWasm from './golden/housing.wasm.ts';
import * as irisWasm from './golden/iris.wasm.ts';
import * as iris from './golden/iris.ts';
import * as kink from './golden/kink.ts';

const cpu: CpuModule<housing.Params, housing.ForwardInputs, housing.TrainInputs, housing.Outputs> = housing;
const gpu: GpuModule<GpuModel<housing.Params, housing.ForwardInputs, housing.TrainInputs, housing.Outputs>> = housingGpu;
const wasm: CpuModule<housing.Params, housing.ForwardInputs, housing.TrainInputs, housing.Outputs> = housingWasm;
const loose: CpuModule[] = [iris, kink, irisWasm];

describe('gradc/module', () => {
  it('the JS and wasm modules export exactly the declared functions and meta', () => {
    for (const m of [cpu, wasm, ...loose]) {
      const threads = m === wasm || m === irisWasm ? ['threads'] : [];
      const use = threads.length ? ['useThreads'] : [];
      expect(Object.keys(m).sort()).toEqual(['forward', 'gradient', 'initParams', 'loss', 'meta', ...threads, 'trainStep', ...use]);
    }
  });

  it('the WebGPU host module exports meta, WGSL, initParams and createModel', () => {
    expect(Object.keys(gpu).sort()).toEqual(['WGSL', 'createModel', 'initParams', 'meta']);
    expect(gpu.WGSL).toContain('@compute');
  });

  it('the WebGPU host TypeScript type-checks, trainable and forward-only; a wrong table is an error', () => {
    const info = { version: '0', hash: '0', source: 'x' };
    const hostTs = (def: typeof housingGraph, forwardOnly: boolean) =>
      emitTarget(planModule(def, { forwardOnly }), wgslBackend, info).files.find((f) => f.name.endsWith('.gpu.js'))!.ts!.source;
    const sources = { 'housing.gpu.ts': hostTs(housingGraph, false), 'digits.gpu.ts': hostTs(digitsGraph, true) };
    const broken = { 'broken.gpu.ts': sources['housing.gpu.ts'].replace(/  forward: \[/, '  forward: ["0", ') };
    expect(typeErrors(sources)).toEqual([]);
    expect(typeErrors(broken).join('\n')).toMatch(/broken\.gpu\.ts: .*string.*number/);
  }, 30_000);
});

/** tsc's errors for in-memory files, under the project's compiler options (its `gradc/module` paths). */
function typeErrors(files: Record<string, string>): string[] {
  const root = resolve(import.meta.dirname, '..');
  const config = ts.getParsedCommandLineOfConfigFile(resolve(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const at = (name: string) => resolve(root, 'test', name);
  const host = ts.createCompilerHost(config.options);
  const { getSourceFile, fileExists, readFile } = host;
  const mine = new Map(Object.entries(files).map(([name, text]) => [at(name), text]));
  host.getSourceFile = (name, language, ...rest) =>
    (mine.has(name) ? ts.createSourceFile(name, mine.get(name)!, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => mine.has(name) || fileExists.call(host, name);
  host.readFile = (name) => mine.get(name) ?? readFile.call(host, name);
  const program = ts.createProgram([...mine.keys()], { ...config.options, noEmit: true }, host);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? d.file.fileName.slice(root.length + 6) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}
