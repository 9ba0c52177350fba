/**
 * Builds the browser demo and serves it on localhost:
 *
 *   npm run demo                      build dist/ (the package; the predemo script), then this: build and serve
 *   PORT=8080 npm run demo            on a fixed port (default: 8173, or any free one)
 *   tsx samples/web/serve.ts --watch  rebuild when the TS, CSS or a graph changes (reload the tab)
 *   tsx samples/web/serve.ts --build  build samples/web/dist and exit
 *
 * The page is bundled by esbuild with the gradc plugin from dist/esbuild.js, which compiles
 * every `*.graph.ts?gradc` (and `?gradc-gpu`) import into generated JS (and WGSL) on the fly.
 *
 * SIGINT (Ctrl-C) and SIGTERM stop it cleanly: the server closes, esbuild's watch context and
 * service stop, and the process exits 0. `npm run demo` execs this process, so a signal npm
 * forwards reaches it rather than stopping a shell in between.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { basename, extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, context, stop as stopEsbuild, type BuildContext, type BuildOptions, type Plugin } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
export const outdir = join(here, 'dist');

async function gradcPlugin(): Promise<Plugin> {
  const file = join(root, 'dist', 'esbuild.js');
  if (!existsSync(file)) throw new Error(`${file} does not exist: build the package first (npm run build)`);
  const { gradc } = (await import(pathToFileURL(file).href)) as typeof import('../../compiler/bundler/esbuild.ts');
  // The page mixes batch sizes of one graph behind one type, so it keeps the generic
  // `gradc/modules` types rather than each graph's exact ones.
  return gradc({ types: false });
}

async function options(): Promise<BuildOptions> {
  return {
    entryPoints: [join(here, 'main.ts'), join(here, 'style.css')],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [await gradcPlugin(), copyHtml],
  };
}

/** index.html goes next to the bundle on every build. */
const copyHtml: Plugin = {
  name: 'copy-html',
  setup(b) {
    b.onEnd((result) => {
      if (result.errors.length > 0) return;
      mkdirSync(outdir, { recursive: true });
      copyFileSync(join(here, 'index.html'), join(outdir, 'index.html'));
    });
  },
};

/** Builds the page into samples/web/dist; throws on errors (esbuild prints them). */
export async function buildDemo(): Promise<void> {
  await build(await options());
  await writeInspectPages();
}

/**
 * Each graph the page trains as its `gradc inspect --html` page (JS kernels), named
 * inspect-<model>-<batch>.html for the page's link. Written once per run, also in --watch.
 */
async function writeInspectPages(): Promise<void> {
  const { loadGraphFile } = await import('../../compiler/load/load-checked.ts');
  const { writeInspectPage } = await import('../../compiler/inspect/write.ts');
  const graphs = join(here, 'graphs');
  const files = [join(root, 'samples', 'kink', 'kink.graph.ts'), join(root, 'samples', 'housing', 'housing.graph.ts'),
    ...readdirSync(graphs).filter((f) => f.endsWith('.graph.ts')).map((f) => join(graphs, f))];
  mkdirSync(outdir, { recursive: true });
  for (const file of files) {
    const { def } = await loadGraphFile(file);
    const model = basename(file, '.graph.ts').split('-')[0];
    const batch = Math.abs(def.ir.nodes[def.ir.inputs[0].id].shape[0]);
    writeInspectPage(def, join(outdir, `inspect-${model}-${batch}.html`), { target: 'js', source: relative(root, file) });
  }
}

/** Builds, then rebuilds whenever an input changes (graph files included); resolves after the first build, to the watch context. */
export async function watchDemo(): Promise<BuildContext> {
  const base = await options();
  let builds = 0;
  let firstBuild!: () => void;
  const built = new Promise<void>((resolve) => (firstBuild = resolve));
  const report: Plugin = {
    name: 'report-rebuilds',
    setup(b) {
      b.onEnd((result) => {
        if (builds++ === 0) return firstBuild();
        const when = new Date().toLocaleTimeString();
        console.log(result.errors.length > 0 ? `gradc demo: ${when} build failed; waiting for changes` : `gradc demo: ${when} rebuilt; reload the page`);
      });
    },
  };
  const ctx = await context({ ...base, plugins: [...base.plugins!, report] });
  await ctx.watch();
  await built;
  await writeInspectPages();
  return ctx;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The headers that make the page cross-origin isolated (spec/wasm.md, Threads). */
export const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

/** Serves samples/web/dist as static files on `host:port`; resolves once it listens. */
export function serveDist(port: number, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(outdir, path.endsWith('/') ? `${path}index.html` : path));
    const inside = file.startsWith(outdir + sep);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !inside || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(inside ? 404 : 403, { 'content-type': 'text/plain; charset=utf-8' }).end(`${inside ? 'not found' : 'forbidden'}: ${path}\n`);
      return;
    }
    // Cross-origin isolated (COOP + COEP), so the page has SharedArrayBuffer and the wasm module can use threads.
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...ISOLATED });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host}:${actual}/` });
    });
  });
}

/** PORT from the environment; otherwise 8173, or any free port if that one is taken. */
async function listen(): Promise<{ server: Server; url: string }> {
  const fromEnv = process.env.PORT;
  if (fromEnv !== undefined && fromEnv !== '') {
    const port = Number(fromEnv);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${fromEnv}`);
    return serveDist(port);
  }
  try {
    return await serveDist(8173);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return serveDist(0);
  }
}

/** What a signal stops: the server and the watch context, once they exist. */
const running: { server?: Server; watch?: BuildContext } = {};

/** Stops serving and esbuild (its watch context and its service process), then exits 0. */
function stopOnSignals(): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log(`gradc demo: ${signal}: stopping`);
      running.server?.close();
      running.server?.closeAllConnections();
      void Promise.resolve(running.watch?.dispose())
        .catch(() => undefined)
        .then(() => stopEsbuild())
        .finally(() => process.exit(0));
    });
  }
}

async function main(args: string[]): Promise<void> {
  const unknown = args.filter((a) => a !== '--watch' && a !== '--build');
  if (unknown.length > 0) throw new Error(`unknown option ${unknown[0]}; options: --watch, --build`);
  stopOnSignals();
  const started = performance.now();
  if (args.includes('--watch')) running.watch = await watchDemo();
  else await buildDemo();
  const shown = relative(process.cwd(), outdir) || '.';
  console.log(`gradc demo: built ${shown} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (args.includes('--build')) return;
  const { server, url } = await listen();
  running.server = server;
  console.log(`gradc demo: serving at ${url}  (Ctrl-C to stop)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    // esbuild has already printed its errors with their locations.
    if (!(e as { errors?: unknown[] }).errors) console.error(`gradc demo: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
