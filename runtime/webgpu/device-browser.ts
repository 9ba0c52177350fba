/**
 * The browser-safe half of runtime/webgpu: options, the error type, and `navigator.gpu`. Its
 * signatures name WebGPU's types through `WebGpuGlobal` (../module.ts), never @webgpu/types'
 * globals, so the package's declarations work with or without them.
 */
import type { WebGpuDevice, WebGpuGlobal } from '../module.ts';

export interface DeviceOptions {
  readonly powerPreference?: 'low-power' | 'high-performance';
  readonly label?: string;
  /** Node only: flags for Dawn's `create()`, e.g. `['backend=null']` to validate without running. */
  readonly flags?: string[];
  /**
   * `adapter` (the default): the device gets the adapter's own buffer and binding limits, so
   * models past WebGPU's defaults (128 MiB a binding, 256 MiB a buffer) run where the GPU
   * allows them. `default`: WebGPU's default limits, the same on every device.
   */
  readonly limits?: 'adapter' | 'default';
}

/**
 * The limits requested beyond WebGPU's defaults, as far as the adapter offers them: the
 * buffer sizes a large model needs. (Today's kernels use at most 8 KiB of workgroup memory
 * and grids planned within the default 65,535 per dimension; the other two are raised for
 * headroom, at no cost.)
 */
const RAISED = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension'] as const;

/** The descriptor gradc requests a device with: its label, and the adapter's limits unless told otherwise. */
export function deviceDescriptor(
  adapter: WebGpuGlobal<'GPUAdapter', { readonly limits: object }>, options: DeviceOptions,
): { label: string; requiredLimits?: Record<string, number> } {
  const limits = options.limits ?? 'adapter';
  return {
    label: options.label ?? 'gradc',
    ...(limits === 'adapter' ? { requiredLimits: Object.fromEntries(RAISED.map((k) => [k, adapter.limits[k]])) } : {}),
  };
}

export class NoAdapterError extends Error {
  override readonly name = 'NoAdapterError';
}

/** A device from `navigator.gpu`, or undefined where there is no `navigator.gpu`. */
export async function requestBrowserDevice(options: DeviceOptions = {}): Promise<WebGpuDevice | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) return undefined;
  const adapter = await nav.gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new NoAdapterError('navigator.gpu returned no adapter: WebGPU may be disabled (in Chromium try --enable-unsafe-webgpu) or unsupported by this GPU');
  }
  return adapter.requestDevice(deviceDescriptor(adapter, options));
}

