/**
 * A generated file; `ts` marks one whose JavaScript is compiled from TypeScript after emission.
 * Apart from backend.ts so the shared host code (common/) can name it without importing the
 * backend interface, which imports the host code.
 */
export interface EmittedFile {
  readonly name: string;
  readonly contents?: string;
  readonly ts?: { readonly source: string; readonly banner: string };
}
