/**
 * Loose types for graph imports through gradc's bundler plugins, for any graph. Reference
 * them once in your project:
 *   /// <reference types="gradc/modules" />
 * The plugins also write `<graph file>.gradc.d.ts` beside each graph file they compile with
 * that graph's exact types (named params and inputs, `meta.batch` where the graph has one),
 * which take precedence over these; `gradc types <graph files…>` writes the same files
 * before any bundler has run (a `prebuild` script on a fresh checkout).
 * Generated from compiler/targets.ts by `npm run golden:update`; do not edit.
 */
/** `--target js`: <name>.ts, .js and .d.ts: a JS/TS module. */
declare module '*?gradc' {
  import type { CpuModule } from 'gradc/module';
  export const meta: CpuModule['meta'];
  export const initParams: CpuModule['initParams'];
  export const forward: CpuModule['forward'];
  export const loss: CpuModule['loss'];
  export const gradient: CpuModule['gradient'];
  export const trainStep: CpuModule['trainStep'];
  /** The optimizer's state before the first step (a graph whose optimizer keeps one: momentum, Adam). */
  export const initOptimizerState: NonNullable<CpuModule['initOptimizerState']>;
}

/** `--target wgsl`: <name>.wgsl with the WebGPU host <name>.gpu.js, .gpu.d.ts. */
declare module '*?gradc-gpu' {
  import type { GpuModule, GpuModel as Model } from 'gradc/module';
  export type GpuModel = Model;
  export const meta: GpuModule['meta'];
  export const WGSL: string;
  export const initParams: GpuModule['initParams'];
  export const createModel: GpuModule['createModel'];
}

/** `--target wasm`: <name>.wat with the WebAssembly module <name>.wasm.ts, .wasm.js, .wasm.d.ts (kernels in SIMD). */
declare module '*?gradc-wasm' {
  import type { CpuModule } from 'gradc/module';
  export const meta: CpuModule['meta'];
  export const initParams: CpuModule['initParams'];
  export const forward: CpuModule['forward'];
  export const loss: CpuModule['loss'];
  export const gradient: CpuModule['gradient'];
  export const trainStep: CpuModule['trainStep'];
  /** The optimizer's state before the first step (a graph whose optimizer keeps one: momentum, Adam). */
  export const initOptimizerState: NonNullable<CpuModule['initOptimizerState']>;
}
