/**
 * The demo's networks at other batch sizes. A graph's batch size is part of its static
 * shapes, so each size the page offers is its own graph file (`kink-4.graph.ts`, …), compiled
 * by the esbuild plugin into its own JS and WGSL. These builders mirror the samples'
 * graphs exactly; the page uses samples/kink/kink.graph.ts (B = 16) and
 * samples/housing/housing.graph.ts (B = 64) themselves for their own sizes.
 */
import { affine, graph, relu, squaredLoss, type GraphDef } from 'gradc';

/** samples/kink/kink.graph.ts with `batch` rows: price = ReLU(w·size + b). */
export function kinkGraph(batch: number): GraphDef {
  return graph(`kink-b${batch}`, (g) => {
    const x = g.input('x', [batch, 1]);
    const y = g.input('y', [batch, 1]);
    const price = relu(affine(x, g.param('w', [1, 1], { init: 'zeros' }), g.param('b', [1])));
    g.output('price', price);
    g.loss(squaredLoss(price, y));
  });
}

/** samples/housing/housing.graph.ts with `batch` rows: 4 features → 3 ReLU units → price. */
export function housingGraph(batch: number): GraphDef {
  return graph(`housing-b${batch}`, (g) => {
    const x = g.input('x', [batch, 4]);
    const y = g.input('y', [batch, 1]);
    const h = relu(affine(x, g.param('W1', [4, 3]), g.param('b1', [3])));
    const o = affine(h, g.param('W2', [3, 1]), g.param('b2', [1]));
    g.output('price', o);
    g.loss(squaredLoss(o, y));
  });
}
