/**
 * The DSL's optimizer functions, `sgd()`, `momentum()` and `adam()`: each checks its options
 * at the user's call and returns the def of compiler/ir/optimizers.ts's table (where the
 * optimizers' formulas are defined, once).
 */
import { UserCall } from '../dsl/scope.ts';
import { optimizerFromChoice, type OptimizerDef } from '../ir/optimizers.ts';

function made(callee: string, options: unknown): OptimizerDef {
  const call = new UserCall(callee);
  const def = optimizerFromChoice({ name: callee, options: options ?? {} });
  if (typeof def === 'string') return call.fail([], def);
  return def;
}

/** Plain stochastic gradient descent, θ := θ − α·∇θJ: the default. */
export function sgd(): OptimizerDef {
  return made('sgd', {});
}

/** Momentum (TensorFlow's, without Nesterov): v := μ·v + g, θ := θ − α·v. `momentum` μ ∈ [0, 1), default 0.9. */
export function momentum(options: { readonly momentum?: number } = {}): OptimizerDef {
  return made('momentum', options);
}

/**
 * Adam (Kingma & Ba, as TensorFlow.js's `tf.train.adam`): β1 ∈ [0, 1) default 0.9, β2 ∈ [0, 1)
 * default 0.999, ε > 0 default 1e-7.
 */
export function adam(options: { readonly beta1?: number; readonly beta2?: number; readonly epsilon?: number } = {}): OptimizerDef {
  return made('adam', options);
}
