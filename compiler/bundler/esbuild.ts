/**
 * `gradc/esbuild`:
 *
 *   import { gradc } from 'gradc/esbuild';
 *   await esbuild.build({ entryPoints: ['app.ts'], bundle: true, plugins: [gradc()] });
 */
import type { Plugin } from 'esbuild';
import type { GradcPluginOptions } from './module.ts';
import { unplugin } from './plugin.ts';

export type { GradcPluginOptions };
export const gradc: (options?: GradcPluginOptions) => Plugin = unplugin.esbuild;
export default gradc;
