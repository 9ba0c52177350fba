/** One WebGPU device per test file (Dawn over SwiftShader on CPU-only machines). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, type CompileOptions } from '../../compiler/compile.ts';
import type { GraphDef } from '../../compiler/index.ts';
import { requestDevice } from '../../runtime/webgpu/index.ts';
import { writeHostFile, type GeneratedModule } from './module.ts';
import type { GpuModel, GpuModule } from '../../runtime/module.ts';

/** A GPU model and the WebGPU host module: gradc/module's declared types. */
export type GpuModelLike = GpuModel;
export type GpuHostModule = GpuModule;

let device: Promise<GPUDevice> | undefined;
export function gpuDevice(): Promise<GPUDevice> {
  device ??= requestDevice().then((d) => {
    d.addEventListener('uncapturederror', (e) => {
      throw new Error(`uncaptured WebGPU error: ${(e as GPUUncapturedErrorEvent).error.message}`);
    });
    return d;
  });
  return device;
}

const dir = mkdtempSync(join(tmpdir(), 'gradc-gpu-test-'));
let counter = 0;

/** Builds both targets (with `options`, e.g. forward-only) and imports both modules. */
export async function buildBoth(def: GraphDef, options: Omit<CompileOptions, 'targets'> = {}): Promise<{ js: GeneratedModule; gpu: GpuHostModule }> {
  const { files } = compile(def, { ...options, targets: ['js', 'wgsl'] });
  const prefix = join(dir, String(counter++));
  writeHostFile(dir, files);
  const load = async (name: string) => {
    const f = files.find((x) => x.name === name)!;
    writeFileSync(`${prefix}-${name}`, f.contents);
    return import(pathToFileURL(`${prefix}-${name}`).href);
  };
  return { js: await load(`${def.name}.js`), gpu: await load(`${def.name}.gpu.js`) };
}

/** Compilation errors of WGSL text as Dawn (Tint) reports them. */
export async function wgslErrors(text: string): Promise<string[]> {
  const d = await gpuDevice();
  d.pushErrorScope('validation');
  const info = await d.createShaderModule({ code: text }).getCompilationInfo();
  await d.popErrorScope();
  return info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
}
