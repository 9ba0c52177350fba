/**
 * `gradc/rollup`:
 *
 *   import { gradc } from 'gradc/rollup';
 *   export default { input: 'app.js', plugins: [gradc()] };
 */
import type { Plugin } from 'rollup';
import type { GradcPluginOptions } from './module.ts';
import { unplugin } from './plugin.ts';

export type { GradcPluginOptions };
export const gradc: (options?: GradcPluginOptions) => Plugin = unplugin.rollup;
export default gradc;
