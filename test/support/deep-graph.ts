/**
 * The deep network of the scaling checks: `layers` layers of four params each, as a user's
 * loop writes them (every node of a kind gets the same base name), alternating tanh and ReLU.
 */
import { add, affine, graph, mul, relu, squaredLoss, tanh, type GraphDef, type Tensor } from '../../compiler/index.ts';

export function deepGraph(layers: number): GraphDef {
  return graph('deep', (g) => {
    let h: Tensor = g.input('x', [4, 8]);
    for (let i = 0; i < layers; i++) {
      const z = affine(h, g.param(`W${i}`, [8, 8]), g.param(`b${i}`, [8]));
      h = add(mul(i % 2 ? relu(z) : tanh(z), g.param(`s${i}`, [])), g.param(`c${i}`, [8]));
    }
    g.output('o', h);
    g.loss(squaredLoss(h, g.input('y', [4, 8])));
  });
}
