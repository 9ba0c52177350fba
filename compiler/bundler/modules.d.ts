/**
 * Loose types for graph imports through gradc's bundler plugins, for any graph. Reference
 * them once in your project:
 *   /// <reference types="gradc/modules" />
 * The plugins also write `<graph file>.gradc.d.ts` beside each graph file they compile with
 * that graph's exact types (named params and inputs), which take precedence over these.
 */
declare module '*?gradc' {
  import type { CpuModule } from 'gradc/module';
  export const meta: CpuModule['meta'];
  export const initParams: CpuModule['initParams'];
  export const forward: CpuModule['forward'];
  export const loss: CpuModule['loss'];
  export const gradient: CpuModule['gradient'];
  export const trainStep: CpuModule['trainStep'];
}

/** The wasm target: the same API as `?gradc`, kernels in WebAssembly SIMD. */
declare module '*?gradc-wasm' {
  import type { CpuModule } from 'gradc/module';
  export const meta: CpuModule['meta'];
  export const initParams: CpuModule['initParams'];
  export const forward: CpuModule['forward'];
  export const loss: CpuModule['loss'];
  export const gradient: CpuModule['gradient'];
  export const trainStep: CpuModule['trainStep'];
}

declare module '*?gradc-gpu' {
  import type { GpuModule, GpuModel as Model } from 'gradc/module';
  export type GpuModel = Model;
  export const meta: GpuModule['meta'];
  export const WGSL: string;
  export const initParams: GpuModule['initParams'];
  export const createModel: GpuModule['createModel'];
}
