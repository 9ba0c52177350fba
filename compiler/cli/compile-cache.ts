/**
 * A V8 code cache for large CommonJS files the CLI loads (it was made for the TypeScript
 * compiler inside ts-morph, a third of every `gradc build` when the modules were printed
 * through it; they are printed as text now). Node 20
 * has no built-in module compile cache, so CommonJS files above a size are compiled through
 * vm.Script with cached data kept under node_modules/.cache/gradc, keyed by path, size,
 * modification time and the V8 version. Any failure falls back to a normal compile.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join, sep } from 'node:path';
import vm from 'node:vm';

const LARGE = 1 << 20;

interface CjsModule {
  _compile(content: string, filename: string): unknown;
  exports: unknown;
  require: NodeRequire;
}

/** node_modules/.cache/gradc of the node_modules that holds esbuild (the project's, once installed). */
export function defaultCacheDir(): string {
  const esbuild = Module.createRequire(import.meta.url).resolve('esbuild');
  const nodeModules = esbuild.slice(0, esbuild.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
  return join(nodeModules, '.cache', 'gradc');
}

export function enableCompileCache(cacheDir: string): void {
  const proto = (Module as unknown as { prototype: CjsModule }).prototype;
  const original = proto._compile;
  proto._compile = function compile(this: CjsModule, content: string, filename: string) {
    if (content.length < LARGE) return original.call(this, content, filename);
    try {
      const stat = statSync(filename);
      const key = createHash('sha1').update(`${filename}\0${stat.size}\0${stat.mtimeMs}\0${process.versions.v8}`).digest('hex');
      const cacheFile = join(cacheDir, `${key}.bin`);
      let cachedData: Buffer | undefined;
      try {
        cachedData = readFileSync(cacheFile);
      } catch {
        cachedData = undefined;
      }
      const wrapper = `(function (exports, require, module, __filename, __dirname) {${content}\n})`;
      const script = new vm.Script(wrapper, { filename, cachedData });
      if (!cachedData || script.cachedDataRejected) {
        mkdirSync(cacheDir, { recursive: true });
        writeFileSync(cacheFile, script.createCachedData());
      }
      const fn = script.runInThisContext() as (...args: unknown[]) => unknown;
      const require = Module.createRequire(filename);
      return fn.call(this.exports, this.exports, require, this, filename, dirname(filename));
    } catch {
      return original.call(this, content, filename);
    }
  };
}
