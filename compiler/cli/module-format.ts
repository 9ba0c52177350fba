/**
 * The generated `.js` files are ES modules (`import`/`export`, and the wasm module awaits its
 * instantiation at top level), and gradc emits no CommonJS form: a wasm module cannot be
 * `require`d synchronously. Node decides how to load a `.js` file from the nearest
 * package.json, and the one `npm init -y` writes has no `"type": "module"`, so Node (and tsx)
 * would load the generated files as CommonJS and fail with a message about syntax or
 * top-level await. `gradc build` says so, with the fix, when it writes into such a package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The nearest package.json above `dir` (itself included), or undefined. */
function nearestPackageJson(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (existsSync(file)) return file;
    if (dirname(at) === at) return undefined;
  }
}

/** The warning for a build into `out`, when Node would load `.js` files there as CommonJS; else undefined. */
export function commonJsWarning(out: string): string | undefined {
  const file = nearestPackageJson(out);
  if (!file) return undefined;
  let type: unknown;
  try {
    type = (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
  if (type === 'module') return undefined;
  const where = relative(process.cwd(), file) || file;
  const folder = join(out, 'package.json');
  return `the generated .js files are ES modules, but ${where} has no "type": "module", so Node would load them as CommonJS and fail; ` +
    `add "type": "module" to ${where}, or write {"type": "module"} to ${folder} (CommonJS code then loads them with await import())`;
}
