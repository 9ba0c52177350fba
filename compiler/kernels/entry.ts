/**
 * The entry points of a generated module as the plan lists them: each a sequence of steps
 * over the plan's kernels. Apart from plan.ts so the memory planner, which reads the entries,
 * and the plan, which calls the memory planner, do not import each other.
 */

export type EntryName = 'forward' | 'loss' | 'gradient' | 'train';

/** One step of an entry point: a kernel of the plan, or the optimizer's update of every param. */
export type Step = { readonly kind: 'kernel'; readonly kernel: number } | { readonly kind: 'update' };

export interface Entry {
  readonly name: EntryName;
  readonly steps: readonly Step[];
  /** Names of the inputs the entry reads, in declaration order. */
  readonly inputs: readonly string[];
  /** The node ids the entry returns (outputs; the loss; the gradients). */
  readonly roots: readonly number[];
}
