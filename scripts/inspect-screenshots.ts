/**
 * Remakes docs/img/inspect-housing.png and inspect-digits.png, the README's pictures of
 * `gradc inspect --html`: each sample's page (target js) in headless Chromium (Debian's
 * `chromium`, or CHROMIUM_PATH), train step shown, one fused kernel selected.
 *
 *   npx tsx scripts/inspect-screenshots.ts
 */
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { loadGraphFile } from '../compiler/load/load-checked.ts';
import { planModule } from '../compiler/kernels/plan.ts';
import { inspectPage } from '../compiler/inspect/page.ts';

const root = resolve(import.meta.dirname, '..');
/** Each sample, and the kernel selected in its picture (by name): a fused backward kernel. */
const SHOTS = [['housing', 'd_h_affine'], ['digits', 'd_z']] as const;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const [name, kernel] of SHOTS) {
    const source = `samples/${name}/${name}.graph.ts`;
    const { def } = await loadGraphFile(join(root, source));
    const page = await browser.newPage({ viewport: { width: 1920, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent(inspectPage(planModule(def), { target: 'js', source }));
    await page.waitForSelector('body[data-ready]');
    await page.evaluate((k) => {
      const { data, select } = (window as unknown as { gradcInspect: { data: { kernels: { name: string }[] }; select(k: number): void } }).gradcInspect;
      select(data.kernels.findIndex((x) => x.name === k));
    }, kernel);
    if (errors.length) throw new Error(`${name}: ${errors.join('; ')}`);
    const out = join(root, 'docs', 'img', `inspect-${name}.png`);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
    await page.close();
  }
} finally {
  await browser.close();
}
