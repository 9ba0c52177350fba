/**
 * What a kernel costs: floating-point operations (2·m·n·k per product, plus one per
 * arithmetic node of the scalar trees per element) and bytes moved (every buffer read or
 * written once, 4 bytes a value). Shown by `gradc inspect`; the bench counts matmul FLOPs
 * the same way.
 */
import type { Graph } from '../ir/graph.ts';
import { dimMax, sizeOf } from '../ir/graph.ts';
import type { ScalarExpr } from '../ir/scalar.ts';
import type { Kernel } from './kernel.ts';
import { domainOf, readNodes, writtenNodes } from './kernel.ts';
import type { OptimizerDef } from '../ir/optimizers.ts';

export interface KernelCost {
  readonly flops: number;
  readonly bytes: number;
}

function operations(e: ScalarExpr, seen = new Set<ScalarExpr>()): number {
  if (seen.has(e) || e.k === 'arg' || e.k === 'num') return 0;
  seen.add(e);
  switch (e.k) {
    case 'unary': return 1 + operations(e.a, seen);
    case 'binary': return 1 + operations(e.a, seen) + operations(e.b, seen);
    case 'select': return 1 + operations(e.a, seen) + operations(e.b, seen) + operations(e.then, seen) + operations(e.otherwise, seen);
  }
}

export function kernelCost(k: Kernel, g: Graph): KernelCost {
  const elements = sizeOf(domainOf(k));
  const seen = new Set<ScalarExpr>();
  const perElement = [...k.stores, ...k.reductions].reduce((n, w) => n + operations(w.expr, seen) + (k.reductions.includes(w as never) ? 1 : 0), 0);
  // At the largest batch, where it is dynamic.
  const flops = (k.kind === 'matmul' ? 2 * dimMax(k.m) * k.n * dimMax(k.k) : 0) + perElement * elements;
  const values = [...readNodes(k), ...writtenNodes(k)].reduce((n, id) => n + sizeOf(g.nodes[id].shape), 0);
  return { flops, bytes: values * 4 };
}

/**
 * The optimizer's update of every param: the operations of its formulas per element, and the
 * param, gradient and state read and the param and state written.
 */
export function updateCost(g: Graph, optimizer: OptimizerDef): KernelCost {
  const elements = g.params.reduce((n, r) => n + sizeOf(g.nodes[r.id].shape), 0);
  const seen = new Set<ScalarExpr>();
  const perElement = [optimizer.param, ...optimizer.state].reduce((n, e) => n + operations(e, seen), 0);
  const slots = optimizer.slots.length;
  return { flops: perElement * elements, bytes: elements * (2 + slots + 1 + slots) * 4 };
}

/** 1234567 → "1.23 M". */
export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return `${n} `;
}
