/**
 * Getting a GPUDevice wherever the code runs: `navigator.gpu` in a browser, Dawn (the npm
 * `webgpu` package) in Node. Fails with a message that says what to install or set.
 */

import type { WebGpuDevice } from '../module.ts';
import { NoAdapterError, requestBrowserDevice, type DeviceOptions } from './device-browser.ts';

export { NoAdapterError, requestBrowserDevice, type DeviceOptions };

export async function requestDevice(options: DeviceOptions = {}): Promise<WebGpuDevice> {
  const inBrowser = await requestBrowserDevice(options);
  if (inBrowser) return inBrowser;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) throw new NoAdapterError('this browser has no WebGPU (navigator.gpu is undefined); use the JS module instead');
  const node = await import('./node.ts');
  return node.requestNodeDevice(options);
}
