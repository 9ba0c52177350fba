// Generated from compiler/targets.ts by `npm run golden:update` (compiler/backends/registry-source.ts): do not edit.
// Each target's backend is the `backend` its folder's module.ts exports.
import type { Target } from '../targets.ts';
import type { Backend } from './backend.ts';
import { backend as jsBackend } from './js/module.ts';
import { backend as wgslBackend } from './wgsl/module.ts';
import { backend as wasmBackend } from './wasm/module.ts';

/** Each target's backend, by its row's name. */
export const BACKENDS: Record<Target, Backend<never>> = {
  js: jsBackend as Backend<never>,
  wgsl: wgslBackend as Backend<never>,
  wasm: wasmBackend as Backend<never>,
};
