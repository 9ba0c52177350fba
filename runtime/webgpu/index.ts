export { requestDevice, NoAdapterError, type DeviceOptions } from './device.ts';
export { createGpuModel } from './driver.ts';
