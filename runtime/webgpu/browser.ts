/**
 * The browser build of runtime/webgpu: `navigator.gpu` only, so bundlers never see the Node
 * path (Dawn, node:fs). Package consumers get it through the `browser` export condition.
 */
import type { WebGpuDevice } from '../module.ts';
import { NoAdapterError, requestBrowserDevice, type DeviceOptions } from './device-browser.ts';

export { NoAdapterError, type DeviceOptions };

export async function requestDevice(options: DeviceOptions = {}): Promise<WebGpuDevice> {
  const device = await requestBrowserDevice(options);
  if (!device) throw new NoAdapterError('this browser has no WebGPU (navigator.gpu is undefined); use the JS module instead');
  return device;
}
export { createGpuModel } from './driver.ts';
export { evaluate, predict, train, type EarlyStopping, type EpochReport, type GpuTrainOptions, type GpuTrainResult, type StepReport } from './fit.ts';
export { checkSeed, fillNormal, makeRng } from '../checks.ts';
export { loadModel, saveModel, type GpuWeightsModule } from './weights.ts';
