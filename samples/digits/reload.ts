/**
 * Loads saved digits weights in a process of its own and prints its predictions for the
 * held-out digits, as JSON `{ "digits": [...], "probs": "<base64 of the f32 bytes>" }`:
 *
 *   node --import tsx samples/digits/reload.ts <generated digits.js> <weights.safetensors>
 *
 * It shares nothing with the process that trained but the two files and the data set.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertModel, loadParams } from '../../runtime/cpu/index.ts';
import { digitsData } from './data.ts';
import { predictDigits } from './train.ts';

async function main(modulePath: string | undefined, weightsPath: string | undefined): Promise<void> {
  if (!modulePath || !weightsPath) throw new Error('usage: reload.ts <generated digits.js> <weights.safetensors>');
  const model: unknown = await import(pathToFileURL(resolve(modulePath)).href);
  assertModel(model, modulePath);
  const { params } = loadParams(model, readFileSync(weightsPath));
  const { probs, digits } = predictDigits(model, params, digitsData().holdout);
  process.stdout.write(JSON.stringify({ digits: Array.from(digits), probs: Buffer.from(probs.buffer, probs.byteOffset, probs.byteLength).toString('base64') }));
}

// An error is its one-line message, for the parent to show.
await main(...(process.argv.slice(2) as [string?, string?])).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
