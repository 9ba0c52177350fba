/** Leaves: values the graph does not compute. Their shapes come from the declaration. */
import { defineOp } from '../ir/op-registry.ts';

const declared = () => ({ error: 'a leaf takes its shape from its declaration' });

defineOp({ name: 'input', kind: 'leaf', arity: 0, shape: declared, doc: 'Data given at each call (a batch of examples, one per row).' });
defineOp({ name: 'param', kind: 'leaf', arity: 0, shape: declared, doc: 'A trained parameter; the optimizer updates it.' });
defineOp({ name: 'const', kind: 'leaf', arity: 0, shape: () => [], doc: 'A scalar constant (attribute `value`).' });
defineOp({ name: 'batch_scale', kind: 'leaf', arity: 0, shape: () => [], doc: 'value / rows, for the rows of a call on a dynamic batch (1/B of a mean loss).' });
