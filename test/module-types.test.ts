/**
 * gradc/module declares the generated modules' API once: every golden module (JS, wasm, WebGPU) satisfies it
 * with its own records (checked by tsc, which `npm test` runs first), and has exactly the
 * declared members at run time.
 */
import { describe, expect, it } from 'vitest';
import type { CpuModule, GpuModel, GpuModule } from '../runtime/module.ts';
import * as housing from './golden/housing.ts';
import * as housingGpu from './golden/housing.gpu.ts';
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
      expect(Object.keys(m).sort()).toEqual(['forward', 'gradient', 'initParams', 'loss', 'meta', 'trainStep']);
    }
  });

  it('the WebGPU host module exports meta, WGSL and createModel', () => {
    expect(Object.keys(gpu).sort()).toEqual(['WGSL', 'createModel', 'meta']);
    expect(gpu.WGSL).toContain('@compute');
  });
});
