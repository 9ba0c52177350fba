/**
 * TypeScript printing shared by the generated modules (JS and WebGPU host): one in-memory
 * ts-morph project, file printing from structures, and the typed records every module uses.
 */
import { createRequire } from 'node:module';
import type * as TsMorph from 'ts-morph';
import type {
  FunctionDeclarationStructure, InterfaceDeclarationStructure, OptionalKind, Project,
  PropertySignatureStructure, StatementStructures, VariableStatementStructure,
} from 'ts-morph';
import type { Graph } from '../ir/graph.ts';
import type { ModulePlan } from './plan.ts';
import { commentText, propertyKey, shapeLabel } from './text.ts';

export type Statement = string | StatementStructures;

let loaded: typeof TsMorph | undefined;
/**
 * ts-morph, loaded on first use through require: imported as ESM, Node would first scan its
 * CommonJS source for export names, about a third of a second of every build.
 */
export function tsMorph(): typeof TsMorph {
  loaded ??= createRequire(import.meta.url)('ts-morph') as typeof TsMorph;
  return loaded;
}

let sharedProject: Project | undefined;
function project(): Project {
  const { Project, IndentationText, QuoteKind } = tsMorph();
  sharedProject ??= new Project({
    useInMemoryFileSystem: true,
    manipulationSettings: { indentationText: IndentationText.TwoSpaces, quoteKind: QuoteKind.Single },
  });
  return sharedProject;
}

export function print(fileName: string, statements: Statement[]): string {
  const file = project().createSourceFile(fileName, { statements }, { overwrite: true });
  const text = file.getFullText();
  project().removeSourceFile(file);
  return text;
}

/** JSDoc text that cannot close its comment. */
export const doc = (text: string): string => text.split('\n').map((line) => commentText(line).replace(/\*\//g, '* /')).join('\n');

export function constant(name: string, initializer: string, comment?: string, exported = false): VariableStatementStructure {
  return {
    kind: tsMorph().StructureKind.VariableStatement,
    declarationKind: tsMorph().VariableDeclarationKind.Const,
    isExported: exported,
    docs: comment ? [doc(comment)] : undefined,
    declarations: [{ name, initializer }],
  };
}

export function metaStatement(g: Graph, declare: boolean): string {
  const record = (list: readonly { name: string; id: number }[], asType: boolean) =>
    `{ ${list.map((r) => `${asType ? 'readonly ' : ''}${propertyKey(r.name)}: ${asType ? 'readonly ' : ''}[${g.nodes[r.id].shape.join(', ')}]`).join(asType ? '; ' : ', ')} }`;
  const fields = (asType: boolean) => [
    `name: ${JSON.stringify(g.name)}`,
    `inputs: ${record(g.inputs, asType)}`,
    `params: ${record(g.params, asType)}`,
    `outputs: ${record(g.outputs, asType)}`,
  ];
  const docs = "/** The graph's name and the shape of every input, param and output (row-major). */";
  return declare
    ? `${docs}\nexport declare const meta: {\n${fields(true).map((f) => `  readonly ${f};`).join('\n')}\n};`
    : `${docs}\nexport const meta = {\n${fields(false).map((f) => `  ${f},`).join('\n')}\n} as const;`;
}

export function interfaces(plan: ModulePlan): InterfaceDeclarationStructure[] {
  const g = plan.graph;
  const field = (r: { name: string; id: number }, what: string) => ({
    name: propertyKey(r.name),
    type: 'Float32Array',
    docs: [doc(`${what} ${shapeLabel(g.nodes[r.id].shape)}${g.nodes[r.id].attrs.init ? `, initialized ${g.nodes[r.id].attrs.init}` : ''}.`)],
  });
  const pick = (names: readonly string[]) => g.inputs.filter((r) => names.includes(r.name)).map((r) => field(r, 'Input'));
  const make = (name: string, docs: string, properties: OptionalKind<PropertySignatureStructure>[]): InterfaceDeclarationStructure => ({
    kind: tsMorph().StructureKind.Interface, name, isExported: true, docs: [doc(docs)], properties,
  });
  const out = [
    make('Params', 'The trained parameters, one Float32Array each.', g.params.map((r) => field(r, 'Param'))),
    make('ForwardInputs', 'What `forward` reads.', pick(plan.forward.inputs)),
    make('Outputs', 'What `forward` returns: fresh arrays.', g.outputs.map((r) => ({ name: propertyKey(r.name), type: 'Float32Array', docs: [doc(`Output ${shapeLabel(g.nodes[r.id].shape)}.`)] }))),
  ];
  if (plan.gradient) {
    out.push(make('TrainInputs', 'What `loss`, `gradient` and `trainStep` read.', pick(plan.gradient.inputs)));
    out.push(make('Gradient', 'The loss and dJ/dparam for every param.', [
      { name: 'loss', type: 'number', docs: ['J at the given params and inputs.'] },
      { name: 'grads', type: 'Params', docs: ['dJ/dparam, fresh arrays of the params\' shapes.'] },
    ]));
  }
  return out;
}

export function declaration(f: FunctionDeclarationStructure): FunctionDeclarationStructure {
  return {
    ...f,
    hasDeclareKeyword: true,
    statements: undefined,
    parameters: f.parameters?.map((p) => (p.initializer ? { ...p, initializer: undefined, hasQuestionToken: true } : p)),
  };
}

