/**
 * How a source location reads in messages and printed IR. Here, below the DSL that captures
 * locations, so the IR's printer and the errors can format them without importing the DSL.
 */
import { relative } from 'node:path';
import type { SourceLoc } from './graph.ts';

/** `file:line`, with the file relative to the working directory when it is inside it. */
export function formatLoc(loc: SourceLoc | undefined): string {
  if (!loc) return '<unknown location>';
  const rel = relative(process.cwd(), loc.file);
  const shown = rel && !rel.startsWith('..') ? rel : loc.file;
  return `${shown}:${loc.line}`;
}
