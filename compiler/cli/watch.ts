/**
 * `gradc build --watch`: build, then rebuild whenever a graph file or a local file it imports
 * changes. Errors are printed and watching goes on; the last good output stays on disk.
 * Folders are watched, not files, so editors that save by replacing a file are seen too.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { isGradcError } from '../errors.ts';

interface Built {
  readonly inputs: readonly string[];
}

export function watchBuild<T extends Built>(files: readonly string[], build: () => Promise<T>, write: (built: T) => void): Promise<number> {
  let watchers: FSWatcher[] = [];
  let inputs = new Set(files.map((f) => resolve(f)));
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again: string[] = [];

  const rewatch = () => {
    for (const w of watchers) w.close();
    const folders = new Set([...inputs].map(dirname));
    watchers = [...folders].map((folder) => watch(folder, (_, name) => {
      const path = name ? resolve(folder, name.toString()) : '';
      if (!inputs.has(path)) return;
      again.push(path);
      clearTimeout(timer);
      timer = setTimeout(rebuild, 80);
    }));
  };

  const rebuild = async () => {
    if (running) return;
    running = true;
    const changed = [...new Set(again)].map((p) => relative(process.cwd(), p) || basename(p));
    again = [];
    if (changed.length) process.stdout.write(`gradc: ${changed.join(', ')} changed, rebuilding\n`);
    try {
      const built = await build();
      inputs = new Set([...files.map((f) => resolve(f)), ...built.inputs]);
      write(built);
    } catch (e) {
      process.stderr.write(`gradc: ${isGradcError(e) ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    }
    rewatch();
    process.stdout.write('gradc: watching for changes (Ctrl-C to stop)\n');
    running = false;
    if (again.length) timer = setTimeout(rebuild, 80);
  };

  return new Promise<number>((done) => {
    process.once('SIGINT', () => {
      for (const w of watchers) w.close();
      clearTimeout(timer);
      done(0);
    });
    void rebuild();
  });
}
