/** The handle users hold for a node while building a graph. */
import type { Shape } from '../ir/graph.ts';
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
    return `Tensor(${this.name} [${this.shape.join(',')}])`;
  }
}
