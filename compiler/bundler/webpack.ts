/**
 * `gradc/webpack`:
 *
 *   import { gradc } from 'gradc/webpack';
 *   export default { entry: './app.js', plugins: [gradc()] };
 */
import type { WebpackPluginInstance } from 'webpack';
import type { GradcPluginOptions } from './module.ts';
import { unplugin } from './plugin.ts';

export type { GradcPluginOptions };
export const gradc: (options?: GradcPluginOptions) => WebpackPluginInstance = unplugin.webpack;
export default gradc;
