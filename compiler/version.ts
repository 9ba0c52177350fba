/** gradc's version, written into every generated file (kept equal to package.json by a test). */
export const VERSION = '0.1.0';
