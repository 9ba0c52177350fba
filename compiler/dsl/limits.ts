/**
 * How large one array of a generated JS module may be. Every input, param and intermediate
 * is a Float32Array (or a view into the one arena), and V8 caps a typed array's length:
 * `v8::TypedArray::kMaxLength`, 2^32 elements on 64-bit Node 20 (checked: a Float32Array
 * of 2^32 elements is accepted, one more is "Invalid typed array length"). Shapes past it
 * are rejected where they are declared or made, with the figure and the limit, instead of
 * failing when the module loads.
 */
import { GradcError } from '../errors.ts';
import type { Graph, Shape } from '../ir/graph.ts';
import { shapeText, sizeOf } from '../ir/graph.ts';

export const MAX_ARRAY_ELEMENTS = 2 ** 32;
const LIMIT = `a Float32Array holds at most 2^32 = ${MAX_ARRAY_ELEMENTS} in Node (V8's TypedArray::kMaxLength)`;

/** Why an array of this shape cannot exist, or undefined. */
export function elementsProblem(shape: Shape): string | undefined {
  const n = sizeOf(shape);
  return n > MAX_ARRAY_ELEMENTS ? `[${shape.join(',')}] has ${n} elements, but ${LIMIT}` : undefined;
}

/**
 * The JS backend's arena (all of an entry point's buffers, one Float32Array) against the
 * limit, naming the largest buffers. For `emitJsModule` to call once it knows `arenaSize`.
 */
export function checkJsArena(g: Graph, floats: number, buffers: Iterable<number>): void {
  if (floats <= MAX_ARRAY_ELEMENTS) return;
  const largest = [...new Set(buffers)].map((id) => g.nodes[id]).sort((a, b) => sizeOf(b.shape) - sizeOf(a.shape)).slice(0, 3)
    .map((n) => `${n.name} ${shapeText(n.shape)}`).join(', ');
  throw new GradcError(`graph '${g.name}'`, `the JS arena needs ${floats} floats, but ${LIMIT}; largest buffers: ${largest}. Use a smaller batch or narrower layers`, g.loc);
}
