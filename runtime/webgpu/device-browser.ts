/// <reference types="@webgpu/types" preserve="true" />
/**
 * The browser-safe half of runtime/webgpu: options, the error type, and `navigator.gpu`.
 */

export interface DeviceOptions {
  readonly powerPreference?: GPUPowerPreference;
  readonly label?: string;
  /** Node only: flags for Dawn's `create()`, e.g. `['backend=null']` to validate without running. */
  readonly flags?: string[];
}

export class NoAdapterError extends Error {
  override readonly name = 'NoAdapterError';
}

/** A device from `navigator.gpu`, or undefined where there is no `navigator.gpu`. */
export async function requestBrowserDevice(options: DeviceOptions = {}): Promise<GPUDevice | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) return undefined;
  const adapter = await nav.gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) {
    throw new NoAdapterError('navigator.gpu returned no adapter: WebGPU may be disabled (in Chromium try --enable-unsafe-webgpu) or unsupported by this GPU');
  }
  return adapter.requestDevice({ label: options.label ?? 'gradc' });
}

