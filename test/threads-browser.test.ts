/**
 * The wasm module's threads in a real browser (Debian's Chromium, headless, through
 * playwright-core as test/web-demo.test.ts drives it): on a page served cross-origin isolated
 * (COOP same-origin + COEP require-corp) `useThreads(2)` and `(3)` run Web Workers from a
 * Blob URL while the page's main thread spins, and ten train steps give the same bits as on
 * one thread; on the same page served without those headers the module falls back to one
 * thread and says why.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.ts';
import { adam, affine, graph, squaredLoss, tanh } from '../compiler/index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** 45 rows (11 row tiles and one more), two layers, Adam: every product split (wasmSplitFlops 0). */
const net = graph('net', (g) => {
  const x = g.input('x', [45, 23]);
  const y = g.input('y', [45, 5]);
  const h = tanh(affine(x, g.param('W1', [23, 32], { init: 'he' }), g.param('b1', [32])));
  const o = affine(h, g.param('W2', [32, 5], { init: 'he' }), g.param('b2', [5]));
  g.output('o', o);
  g.loss(squaredLoss(o, y));
  g.optimizer(adam());
});

/** The page: ten train steps on 1, 2 and 3 threads, each param's bits and the thread status, in `window.result`. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>threads</title>
<script type="module">
import * as m from './net.wasm.js';
const data = (n, seed) => { let s = seed; return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1); };
const run = async (count) => {
  const used = await m.useThreads(count);
  const params = m.initParams(3);
  const state = m.initOptimizerState();
  const inputs = { x: data(45 * 23, 1), y: data(45 * 5, 2) };
  for (let i = 0; i < 10; i++) m.trainStep(params, inputs, 0.01, state);
  const bits = Object.values(params).map((p) => Array.from(new Uint32Array(p.buffer)).join(',')).join(';');
  return { used, status: m.threads, bits };
};
window.result = (async () => ({ isolated: self.crossOriginIsolated, runs: [await run(1), await run(2), await run(3)] }))()
  .catch((e) => ({ error: String(e) }));
</script>`;

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8' };

function serve(dir: string, isolated: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.slice(1) || 'index.html';
    if (!/^[\w.-]+$/.test(name)) return void res.writeHead(404).end();
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      return void res.writeHead(404).end();
    }
    const headers: Record<string, string> = { 'content-type': TYPES[name.split('.').pop()!] ?? 'application/octet-stream' };
    if (isolated) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${address.port}/` });
  }));
}

let dir = '';
let userDataDir = '';
let browser: BrowserContext | undefined;
const servers: Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gradc-threads-page-'));
  for (const f of compile(net, { targets: ['wasm'], wasmSplitFlops: 0 }).files) if (f.name.endsWith('.js')) writeFileSync(join(dir, f.name), f.contents);
  writeFileSync(join(dir, 'index.html'), PAGE);
  userDataDir = mkdtempSync(join(tmpdir(), 'gradc-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--no-first-run'], timeout: 30_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
  for (const d of [dir, userDataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

type Result = { isolated: boolean; error?: string; runs: { used: number; status: { threads: number; reason?: string }; bits: string }[] };

async function resultOf(isolated: boolean): Promise<Result> {
  const { server, url } = await serve(dir, isolated);
  servers.push(server);
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const result = (await page.evaluate(() => (window as unknown as { result: Promise<Result> }).result)) as Result;
  await page.close();
  expect(errors).toEqual([]);
  expect(result.error).toBeUndefined();
  return result;
}

describe('wasm threads in Chromium', () => {
  it('a cross-origin-isolated page runs 2 and 3 threads, with the same bits as one', async () => {
    const { isolated, runs } = await resultOf(true);
    expect(isolated).toBe(true);
    expect(runs.map((r) => r.used)).toEqual([1, 2, 3]);
    expect(runs[1].status).toEqual({ threads: 2 });
    expect(runs[0].bits.length).toBeGreaterThan(100);
    expect(runs[1].bits).toBe(runs[0].bits);
    expect(runs[2].bits).toBe(runs[0].bits);
  }, 90_000);

  it('a page that is not isolated runs one thread and says why', async () => {
    const { isolated, runs } = await resultOf(false);
    expect(isolated).toBe(false);
    expect(runs.map((r) => r.used)).toEqual([1, 1, 1]);
    expect(runs[1].status.reason).toMatch(/^SharedArrayBuffer is unavailable: the page is not cross-origin isolated/);
    expect(runs[1].bits).toBe(runs[0].bits);
  }, 90_000);
});
