/**
 * Appends nodes to an SSA list, inferring each shape from the op table. Used by the DSL,
 * by autodiff and by the passes that rebuild a graph.
 */
import { opDef } from './op-registry.ts';
import type { Attrs, Node, Shape, SourceLoc } from './graph.ts';

export function inferShape(op: string, inputs: readonly Shape[], attrs: Attrs): Shape | { error: string } {
  const def = opDef(op);
  if (inputs.length !== def.arity) return { error: `${op} takes ${def.arity} inputs, got ${inputs.length}` };
  return def.shape(inputs, attrs);
}

export class NodeList {
  readonly nodes: Node[] = [];
  private readonly names = new Set<string>();
  /**
   * Where the search for a free `base_k` starts: every `base_j` with 2 ≤ j < the hint is in
   * use. Without it, a loop making n nodes of one name would cost O(n²) lookups.
   */
  private readonly suffixHint = new Map<string, number>();

  /** A name not yet used in this list: `base`, else the smallest free `base_2`, `base_3`, … */
  uniqueName(base: string): string {
    if (!this.names.has(base)) return base;
    let k = this.suffixHint.get(base) ?? 2;
    while (this.names.has(`${base}_${k}`)) k++;
    this.suffixHint.set(base, k);
    return `${base}_${k}`;
  }

  /** Renames a node, keeping names unique (no-op when `base` is its name already). */
  rename(id: number, base: string): void {
    const old = this.nodes[id];
    if (old.name === base) return;
    this.forget(old.name);
    const name = this.uniqueName(base);
    this.names.add(name);
    this.nodes[id] = { ...old, name };
  }

  /** Frees a name; if it was some `base_k` below its base's hint, the hint moves back so k is reused. */
  private forget(name: string): void {
    this.names.delete(name);
    const m = /^(.*)_(\d+)$/.exec(name);
    const k = m ? Number(m[2]) : 0;
    if (m && k >= 2 && (this.suffixHint.get(m[1]) ?? 2) > k) this.suffixHint.set(m[1], k);
  }

  /** Adds a node whose inputs are already known to fit; a misfit here is a compiler bug. */
  add(op: string, inputs: readonly number[], attrs: Attrs, name: string, loc?: SourceLoc): number {
    const shapes = inputs.map((i) => this.nodes[i].shape);
    const shape = inferShape(op, shapes, attrs);
    if ('error' in shape) {
      const filled = shape.error.replace(/\{(\d+)\}/g, (_, i) => this.nodes[inputs[Number(i)]].name);
      throw new Error(`internal: ${op}(${inputs.map((i) => this.nodes[i].name).join(', ')}): ${filled}`);
    }
    return this.push({ op, inputs, attrs, name, loc, shape });
  }

  /** Adds a node with a shape the caller has already checked. */
  push(n: Omit<Node, 'id' | 'name'> & { name: string }): number {
    const id = this.nodes.length;
    const name = this.uniqueName(n.name);
    this.names.add(name);
    this.nodes.push({ ...n, id, name, shape: [...n.shape] });
    return id;
  }
}

