/**
 * A GPUDevice in Node, through the npm `webgpu` package (Dawn). On a machine without a GPU,
 * Dawn needs a Vulkan driver: SwiftShader's, which Debian's chromium packages ship, works
 * (`apt-get install libvulkan1 chromium-common`). When VK_ICD_FILENAMES is unset and the machine
 * exposes no GPU device, SwiftShader is chosen automatically (Debian's lavapipe is rejected by
 * Dawn).
 */
import { existsSync, readdirSync } from 'node:fs';
import type { WebGpuDevice, WebGpuGlobal } from '../module.ts';
import { NoAdapterError, deviceDescriptor, type DeviceOptions } from './device-browser.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Kept alive for as long as the process runs: if Dawn's instance is collected, mapAsync hangs. */
const instances: unknown[] = [];

/** A GPU the kernel exposes (DRM render node or NVIDIA device); Mesa's drivers need one. */
function hasGpuDeviceNode(): boolean {
  const dri = existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  return dri || existsSync('/dev/nvidia0');
}

/**
 * Dawn's `GPU` object (what `navigator.gpu` is in a browser), kept alive for the life of the
 * process. SwiftShader is chosen where the machine has no GPU (see above). Also what a
 * program uses to give another WebGPU library (TensorFlow.js) the same adapters.
 */
export async function nodeGpu(flags: readonly string[] = []): Promise<WebGpuGlobal<'GPU', object>> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD) && !hasGpuDeviceNode()) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  let webgpu: { create(flags: string[]): GPU };
  try {
    webgpu = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  } catch (e) {
    throw new NoAdapterError(`the npm package 'webgpu' is not installed (npm install webgpu): ${(e as Error).message}`);
  }
  const gpu = webgpu.create([...flags]);
  instances.push(gpu);
  return gpu;
}

export async function requestNodeDevice(options: DeviceOptions = {}): Promise<WebGpuDevice> {
  const gpu = await nodeGpu(options.flags);
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new NoAdapterError(
      'Dawn found no WebGPU adapter. On a machine without a GPU install a Vulkan driver: ' +
      `apt-get install -y libvulkan1 chromium-common, then set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}` +
      (process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES is ${process.env.VK_ICD_FILENAMES})` : ''),
    );
  }
  return adapter.requestDevice(deviceDescriptor(adapter, options));
}
