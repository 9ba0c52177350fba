export { requestDevice, NoAdapterError, type DeviceOptions } from './device.ts';
