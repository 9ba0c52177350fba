export { requestDevice, NoAdapterError, type DeviceOptions } from './device.ts';
export { createGpuModel } from './driver.ts';
export { loadModel, saveModel, type GpuWeightsModule } from './weights.ts';
