/**
 * Loose types for graph imports through gradc's bundler plugins, for any graph. Reference
 * them once in your project:
 *   /// <reference types="gradc/modules" />
 * The plugins also write `<graph file>.gradc.d.ts` beside each graph file they compile with
 * that graph's exact types (named params and inputs), which take precedence over these.
 */
declare module '*?gradc' {
  type Arrays = Record<string, Float32Array>;
  export const meta: {
    readonly name: string;
    readonly inputs: Readonly<Record<string, readonly number[]>>;
    readonly params: Readonly<Record<string, readonly number[]>>;
    readonly outputs: Readonly<Record<string, readonly number[]>>;
  };
  export function initParams(seed?: number): Arrays;
  export function forward(params: Arrays, inputs: Arrays): Arrays;
  export function loss(params: Arrays, inputs: Arrays): number;
  export function gradient(params: Arrays, inputs: Arrays): { loss: number; grads: Arrays };
  export function trainStep(params: Arrays, inputs: Arrays, learningRate: number): number;
}

declare module '*?gradc-gpu' {
  type Arrays = Record<string, Float32Array>;
  export const WGSL: string;
  export interface GpuDataset {
    readonly rows: number;
    destroy(): void;
  }
  export interface GpuModel {
    setParams(params: Arrays): Promise<void>;
    getParams(): Promise<Arrays>;
    forward(inputs: Arrays): Promise<Arrays>;
    loss(inputs: Arrays): Promise<number>;
    gradient(inputs: Arrays): Promise<{ loss: number; grads: Arrays }>;
    trainStep(inputs: Arrays, learningRate: number): Promise<number>;
    createDataset(inputs: Arrays): GpuDataset;
    trainSteps(dataset: GpuDataset, options: { firstRow: number; steps?: number; learningRate: number }): Promise<number>;
    destroy(): void;
  }
  export function createModel(device: GPUDevice): Promise<GpuModel>;
}
