/**
 * The few helper functions every generated JS module carries: argument checks and the
 * seeded generator behind `initParams`. They are text, embedded verbatim.
 */

export const HELPER_NAMES = ['arena', 'tile', 'panelB', 'panelsA', 'checkRecord', 'checkArray', 'checkFinite', 'checkRate', 'checkSeed', 'describe', 'show', 'makeRng', 'fillNormal', 'PARAMS', 'FORWARD_INPUTS', 'TRAIN_INPUTS', 'ALL_INPUTS', 'meta', 'initParams', 'forward', 'loss', 'gradient', 'trainStep'];

/** Argument checks, shared with the WebGPU host module. */
export const CHECK_HELPERS_TS = `
type Spec = readonly (readonly [name: string, length: number, shape: string, ...rest: number[]])[];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** A rejected value as it was: strings quoted, so '0.1' does not read as 0.1. */
function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function checkArray(fn: string, what: string, name: string, v: unknown, length: number, shape: string): void {
  if (!(v instanceof Float32Array)) {
    throw new TypeError(\`\${fn}: \${what}.\${name} must be a Float32Array of shape \${shape} (\${length} values), got \${v === undefined ? 'nothing' : describe(v)}\`);
  }
  if (v.length !== length) {
    throw new RangeError(\`\${fn}: \${what}.\${name} must have shape \${shape} (\${length} values), got \${v.length} values\`);
  }
}

/**
 * Throws unless every name in \`required\` is present, and every name given is one of
 * \`allowed\` holding a Float32Array of its declared length.
 */
function checkRecord(fn: string, what: string, record: unknown, required: Spec, allowed: Spec): void {
  if (typeof record !== 'object' || record === null) {
    throw new TypeError(\`\${fn}: \${what} must be an object of Float32Arrays, got \${describe(record)}\`);
  }
  const values = record as Record<string, unknown>;
  for (const [name, length, shape] of required) {
    checkArray(fn, what, name, Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined, length, shape);
  }
  for (const name in values) {
    const spec = allowed.find((s) => s[0] === name);
    if (!spec) {
      throw new TypeError(\`\${fn}: unknown \${what.replace(/s$/, '')} \${JSON.stringify(name)}; expected \${allowed.map((s) => s[0]).join(', ')}\`);
    }
    checkArray(fn, what, name, values[name], spec[1], spec[2]);
  }
  if (fn === 'trainStep' && what === 'params') checkFinite(fn, what, values as Record<string, Float32Array>, required);
}

/**
 * Throws unless every value is finite: a NaN or infinite param would spread to every param
 * in one step. One multiply-add per value (x·0 is 0 only for finite x), so it costs far
 * less than the step; only trainStep, which writes params, runs it.
 */
function checkFinite(fn: string, what: string, record: Record<string, Float32Array>, spec: Spec): void {
  let poison = 0;
  for (let k = 0; k < spec.length; k++) {
    const v = record[spec[k][0]];
    for (let i = 0; i < v.length; i++) poison += v[i] * 0;
  }
  if (poison === 0) return;
  for (const [name] of spec) {
    const i = record[name].findIndex((e) => !Number.isFinite(e));
    if (i >= 0) throw new RangeError(\`\${fn}: \${what}.\${name}[\${i}] is \${record[name][i]}; params must be finite (NaN or ±Infinity would spread to every param in one step)\`);
  }
}

function checkRate(learningRate: unknown, fn = 'trainStep'): void {
  if (typeof learningRate !== 'number' || !Number.isFinite(learningRate) || learningRate <= 0) {
    throw new RangeError(\`\${fn}: learningRate must be a finite number > 0, got \${show(learningRate)}\`);
  }
}`.trim();

/** initParams' seed check (JS module only). */
export const SEED_HELPERS_TS = `
function checkSeed(seed: unknown): void {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new TypeError(\`initParams: seed must be an integer, got \${show(seed)}\`);
  }
}`.trim();

/** The seeded generator behind initParams, carried only when some param is not zeros. */
export const RNG_HELPERS_TS = `
/** A 32-bit xorshift generator, seeded through an integer hash; returns values in (0, 1). */
function makeRng(seed: number): () => number {
  let x = Math.imul(seed ^ 0x5bd1e995, 0x2c1b3c6d) ^ 0x68e31da4;
  x = Math.imul(x ^ (x >>> 16), 0x297a2d39) | 0;
  if (x === 0) x = 0x1234567;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Normal(0, std²) samples by the Box–Muller transform. */
function fillNormal(out: Float32Array, next: () => number, std: number): void {
  for (let i = 0; i < out.length; i++) {
    out[i] = std * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  }
}`.trim();

/** What a JS module carries: the checks, and the generator where some param draws from it. */
export function jsHelpers(needsRng: boolean): string {
  return [CHECK_HELPERS_TS, SEED_HELPERS_TS, ...(needsRng ? [RNG_HELPERS_TS] : [])].join('\n\n');
}
