/**
 * Types for graph imports through the esbuild plugin. Reference them once in your project:
 *   /// <reference types="gradc/modules" />
 * The generated `.d.ts` next to a built module is exact (named params and inputs); these are
 * the shapes every generated module shares.
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
