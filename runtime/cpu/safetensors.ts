/**
 * The safetensors file format (Hugging Face's, https://github.com/huggingface/safetensors),
 * for F32 tensors, which is all gradc keeps. A file is
 *
 *   N             8 bytes, a little-endian unsigned 64-bit integer: the header's length
 *   header        N bytes of UTF-8 JSON, starting with `{`, padded with spaces:
 *                 { "__metadata__": { "<key>": "<string>", … },
 *                   "<tensor>": { "dtype": "F32", "shape": [4, 16], "data_offsets": [begin, end] }, … }
 *   data          the tensors' bytes, little-endian and row-major, at [begin, end) of the data
 *
 * The tensors tile the data exactly: no byte belongs to two tensors or to none, and nothing
 * follows the last. `__metadata__` is optional and maps strings to strings only.
 *
 * Files are written as the reference implementation (the Rust crate behind the Python
 * package) writes them, so the same tensors and metadata give the same bytes: compact JSON,
 * `__metadata__` first, then the tensors in the order of their data, which is by name
 * (Unicode code points, as the UTF-8 bytes compare), and the header padded with spaces to a
 * multiple of 8 bytes so that the data starts 8-byte aligned. Metadata keys are written
 * sorted (the reference writes them in hash order, which readers must not depend on).
 */

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** A tensor as the header places it: its data is `bytes`, a view of the file. */
export interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** [begin, end) in the data. */
  readonly offsets: readonly [number, number];
  readonly bytes: Uint8Array;
}

export interface SafetensorsContents {
  readonly metadata: ReadonlyMap<string, string>;
  /** In the order of their data. */
  readonly tensors: readonly TensorEntry[];
}

const METADATA = '__metadata__';
/**
 * The largest header read, in bytes: the reference implementation's limit (its
 * `MAX_HEADER_SIZE`, 100,000,000 bytes). A larger one is refused before it is decoded.
 */
export const MAX_HEADER_BYTES = 100_000_000;
const ALIGNMENT = 8;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const F32_BYTES = 4;

/** Code point order, which is UTF-8 byte order (plain `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  for (let i = 0; i < a.length && i < b.length;) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

/** True where typed arrays are little-endian (everywhere Node and browsers run today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The file for `tensors` (names distinct) and `metadata`. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>>): Uint8Array {
  const sorted = [...tensors].sort((a, b) => compareCodePoints(a.name, b.name));
  let end = 0;
  const fields = sorted.map(({ name, shape, values }) => {
    const begin = end;
    end += values.length * F32_BYTES;
    return `${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape, data_offsets: [begin, end] })}`;
  });
  const keys = Object.keys(metadata).sort(compareCodePoints);
  if (keys.length > 0) fields.unshift(`"${METADATA}":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  const header = new TextEncoder().encode(`{${fields.join(',')}}`);
  const length = Math.ceil(header.length / ALIGNMENT) * ALIGNMENT;
  const file = new Uint8Array(8 + length + end);
  new DataView(file.buffer).setBigUint64(0, BigInt(length), true);
  file.set(header, 8);
  file.fill(SPACE, 8 + header.length, 8 + length);
  let at = 8 + length;
  for (const { values } of sorted) {
    writeFloats(values, file, at);
    at += values.length * F32_BYTES;
  }
  return file;
}

/** Little-endian f32 values into `file` at byte `at`. */
function writeFloats(values: Float32Array, file: Uint8Array, at: number): void {
  if (LITTLE_ENDIAN) {
    file.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    return;
  }
  const view = new DataView(file.buffer, file.byteOffset + at, values.byteLength);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * F32_BYTES, values[i], true);
}

/** A fresh Float32Array of the little-endian f32 values in `bytes` (any alignment). */
export function readFloats(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.length / F32_BYTES);
  if (LITTLE_ENDIAN) {
    new Uint8Array(values.buffer).set(bytes);
    return values;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * F32_BYTES, true);
  return values;
}

/**
 * Characters that would break a one-line message or reorder it on screen, which
 * JSON.stringify leaves raw: DEL and C1 controls, line and paragraph separators, bidi marks.
 */
const UNSAFE = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A string read from a file, shown in a message: quoted, escaped, cut short. */
export function quote(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(shown).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A JSON value as a message shows it: short, on one line. */
const brief = (value: unknown): string => quote(JSON.stringify(value) ?? String(value)).slice(1, -1);

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads and checks a whole file: every way it can be truncated or corrupt is a RangeError
 * `<fn>: …` naming what is wrong. Checks the format only, not what the tensors are for.
 */
export function decodeSafetensors(fn: string, file: Uint8Array): SafetensorsContents {
  const fail = (what: string) => new RangeError(`${fn}: ${what}`);
  if (file.length < 8) throw fail(`the file is truncated: it has ${file.length} bytes, fewer than the 8 that give its header's length`);
  const declared = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`the header is corrupt, or not a safetensors file: it should be ${declared} bytes long, over the format's limit of ${MAX_HEADER_BYTES} bytes (100 MB, as the reference implementation)`);
  }
  if (declared > BigInt(file.length - 8)) {
    throw fail(`the file is truncated, or not a safetensors file: its header should be ${declared} bytes long, but only ${file.length - 8} bytes follow the length`);
  }
  const length = Number(declared);
  if (file[8] !== OPEN_BRACE) throw fail(`the header is corrupt: it does not start with '{' (is this a safetensors file?)`);
  // JSON that starts with '{' is an object.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + length));
  } catch {
    throw fail('the header is corrupt: it is not UTF-8');
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw fail('the header is corrupt: it is not JSON');
  }
  // JSON.parse keeps the last of repeated keys: a file that says two things is refused.
  const repeated = repeatedKey(text);
  if (repeated) {
    const where = repeated.inside === undefined ? 'it' : repeated.inside === METADATA ? METADATA : `tensor ${quote(repeated.inside)}`;
    throw fail(`the header is corrupt: ${where} has the key ${quote(repeated.key)} twice`);
  }

  const metadata = new Map<string, string>();
  const placed: { name: string; shape: number[]; offsets: [number, number] }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA) {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw fail(`the header is corrupt: ${METADATA} is ${kindOf(info)}, not an object of strings`);
      for (const [key, value] of Object.entries(info)) {
        if (typeof value !== 'string') throw fail(`the header is corrupt: ${METADATA} ${quote(key)} is ${kindOf(value)}; the format allows only strings there`);
        metadata.set(key, value);
      }
      continue;
    }
    placed.push(readEntry(fail, name, info));
  }

  // Each tensor must start where the one before it ends, from 0 to the end of the data.
  placed.sort((a, b) => a.offsets[0] - b.offsets[0] || a.offsets[1] - b.offsets[1]);
  const dataLength = file.length - 8 - length;
  let at = 0;
  let before: string | undefined;
  for (const { name, offsets: [begin, end] } of placed) {
    const where = before === undefined ? `before tensor ${quote(name)}` : `between tensors ${quote(before)} and ${quote(name)}`;
    if (begin > at) throw fail(`the header is corrupt: data bytes ${at} to ${begin} ${where} belong to no tensor (tensors must cover the data, with no gaps)`);
    if (begin < at) throw fail(`the header is corrupt: tensors ${quote(before!)} and ${quote(name)} overlap (${quote(name)} starts at data byte ${begin}, before ${at})`);
    at = end;
    before = name;
  }
  if (at > dataLength) throw fail(`the file is truncated: tensor ${quote(before!)} ends at data byte ${at}, but the file holds only ${dataLength} bytes of data`);
  if (at < dataLength) throw fail(`the file is corrupt: its last ${dataLength - at} bytes of data belong to no tensor`);
  const data = 8 + length;
  return {
    metadata,
    tensors: placed.map(({ name, shape, offsets }) => ({ name, shape, offsets, bytes: file.subarray(data + offsets[0], data + offsets[1]) })),
  };
}

/** One tensor's header entry, checked on its own: an F32 dtype, a shape, offsets that fit it. */
function readEntry(fail: (what: string) => RangeError, name: string, info: unknown): { name: string; shape: number[]; offsets: [number, number] } {
  const tensor = `tensor ${quote(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw fail(`the header is corrupt: ${tensor} is ${kindOf(info)}, not { dtype, shape, data_offsets }`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') throw fail(`the header is corrupt: ${tensor} has no dtype string (got ${brief(dtype)})`);
  if (dtype !== 'F32') {
    throw fail(`${tensor} has dtype ${quote(dtype)}, but gradc's params are F32: convert the tensor to 32-bit floats before saving (numpy: .astype(np.float32), PyTorch: .float())`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) throw fail(`the header is corrupt: ${tensor} has shape ${brief(shape)}, not a list of whole numbers ≥ 0`);
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  if (Array.isArray(offsets) && offsets.length === 2 && whole(offsets[0]) && whole(offsets[1]) && !(isCount(offsets[0]) && isCount(offsets[1]))) {
    throw fail(`the header is corrupt: ${tensor} has data_offsets ${brief(offsets)}, far beyond the end of any file (offsets over 2^53 bytes)`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isCount(offsets[0]) || !isCount(offsets[1]) || offsets[0] > offsets[1]) {
    throw fail(`the header is corrupt: ${tensor} has data_offsets ${brief(offsets)}, not [begin, end] with whole numbers 0 ≤ begin ≤ end`);
  }
  const needed = shape.reduce((n: number, d: number) => n * d, 1) * F32_BYTES;
  const spans = offsets[1] - offsets[0];
  if (spans !== needed) throw fail(`the header is corrupt: ${tensor} has data_offsets [${offsets[0]},${offsets[1]}], ${spans} bytes, but shape [${shape.join(',')}] of F32 needs ${needed}`);
  return { name, shape, offsets: [offsets[0], offsets[1]] };
}

/**
 * The first key that an object of the header repeats, decoded, with the key of the object
 * holding it (undefined for the header itself: a tensor named twice); undefined when no object
 * repeats a key. `text` is valid JSON (JSON.parse took it).
 */
export function repeatedKey(text: string): { key: string; inside?: string } | undefined {
  /** Per open object or array: the keys seen (undefined for an array), and the key it is the value of. */
  const stack: { keys?: Set<string>; name?: string }[] = [];
  let lastKey: string | undefined;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, inside: stack.length === 1 ? undefined : top.name };
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ keys: new Set(), name: stack.length === 0 ? undefined : lastKey });
      expectKey = true;
    } else if (c === '[') {
      stack.push({});
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.keys !== undefined;
    }
  }
  return undefined;
}
