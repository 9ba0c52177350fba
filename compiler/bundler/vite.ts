/**
 * `gradc/vite`:
 *
 *   import { gradc } from 'gradc/vite';
 *   export default defineConfig({ plugins: [gradc()] });
 */
import type { Plugin } from 'vite';
import type { GradcPluginOptions } from './module.ts';
import { unplugin } from './plugin.ts';

export type { GradcPluginOptions };
export const gradc: (options?: GradcPluginOptions) => Plugin = unplugin.vite;
export default gradc;
