/**
 * Getting a GPUDevice wherever the code runs: `navigator.gpu` in a browser, Dawn (the npm
 * `webgpu` package) in Node. Fails with a message that says what to install or set.
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

export async function requestDevice(options: DeviceOptions = {}): Promise<GPUDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    const adapter = await nav.gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) {
      throw new NoAdapterError('navigator.gpu returned no adapter: WebGPU may be disabled (in Chromium try --enable-unsafe-webgpu) or unsupported by this GPU');
    }
    return adapter.requestDevice({ label: options.label ?? 'gradc' });
  }
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) throw new NoAdapterError('this browser has no WebGPU (navigator.gpu is undefined); use the JS module instead');
  const node = await import('./node.ts');
  return node.requestNodeDevice(options);
}
