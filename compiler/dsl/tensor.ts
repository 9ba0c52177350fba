/** The handle users hold for a node while building a graph. */
import type { Shape } from '../ir/graph.ts';
import { shapeText } from '../ir/graph.ts';
import type { GraphScope } from './scope.ts';

export class Tensor {
  /** @internal */
  constructor(
    readonly scope: GraphScope,
    readonly id: number,
  ) {}

  get shape(): Shape {
    return this.scope.list.nodes[this.id].shape;
  }

  get name(): string {
    return this.scope.list.nodes[this.id].name;
  }

  toString(): string {
    return `Tensor(${this.name} ${shapeText(this.shape)})`;
  }
}

/**
 * A graph's batch dimension (`g.batch(max)`): used as the first dimension of inputs, it is
 * any number of rows from 1 to `max` at each call.
 */
export class BatchDim {
  constructor(readonly max: number) {
    Object.freeze(this);
  }

  toString(): string {
    return `B≤${this.max}`;
  }
}
