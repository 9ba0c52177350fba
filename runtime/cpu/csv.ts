/**
 * A small reader for numeric tables in CSV: one row a line, fields separated by commas (or
 * `delimiter`), an optional header row of column names. Every other field must be a number
 * (JavaScript's `Number` syntax, surrounding spaces and double quotes allowed); anything else
 * is refused with its line and column. Not a general CSV parser: no quoted delimiters or line
 * breaks inside fields, which numeric tables do not have.
 *
 *   const table = parseCsv(readFileSync('data.csv', 'utf8'));
 *   const x = selectColumns(table, [0, 1, 2, 3]);        // by index or by header name
 *   const labels = selectColumns(table, ['species']);
 */

export interface CsvTable {
  /** The header row's names, or one name per column (`column 1`, …) when the text has none. */
  readonly columns: readonly string[];
  /** Whether the first line was a header row. */
  readonly hasHeader: boolean;
  /** Data rows. */
  readonly rows: number;
  /** Every value, row-major: `rows × columns.length`. */
  readonly values: Float32Array;
}

export interface CsvOptions {
  /**
   * Whether the first line is a header: true, false, or (the default) only if one of its
   * fields is not a number.
   */
  readonly header?: boolean;
  /** The field separator, one character; default ','. */
  readonly delimiter?: string;
}

const unquote = (field: string): string => {
  const f = field.trim();
  return f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1).replace(/""/g, '"').trim() : f;
};

/** The number a field holds, or undefined: `Number` accepts '' and ' ', which are no number. */
const numberOf = (field: string): number | undefined => {
  if (field === '') return undefined;
  const v = Number(field);
  return Number.isNaN(v) && field !== 'NaN' ? undefined : v;
};

/** Reads a numeric table; throws one line naming the line and column of the first bad field. */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const fn = 'parseCsv';
  if (typeof text !== 'string') throw new TypeError(`${fn}: text must be a string, got ${text === null ? 'null' : typeof text}`);
  const { delimiter = ',' } = options;
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new RangeError(`${fn}: delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }
  if (options.header !== undefined && typeof options.header !== 'boolean') throw new TypeError(`${fn}: header must be true or false, got ${String(options.header)}`);
  // [line number, fields] of every line that is not blank.
  const lines = text.split(/\r\n|\n|\r/).flatMap((line, i) => (line.trim() === '' ? [] : [[i + 1, line.split(delimiter).map(unquote)] as const]));
  if (lines.length === 0) throw new Error(`${fn}: the text has no rows`);
  const [firstLine, firstFields] = lines[0]!;
  const hasHeader = options.header ?? firstFields.some((f) => numberOf(f) === undefined);
  const width = firstFields.length;
  const columns = hasHeader ? firstFields : firstFields.map((_, j) => `column ${j + 1}`);
  const data = hasHeader ? lines.slice(1) : lines;
  if (data.length === 0) throw new Error(`${fn}: the text has a header row (line ${firstLine}) but no data rows`);
  const values = new Float32Array(data.length * width);
  data.forEach(([line, fields], r) => {
    if (fields.length !== width) {
      throw new RangeError(`${fn}: line ${line} has ${fields.length} fields but line ${firstLine}${hasHeader ? ' (the header)' : ''} has ${width}`);
    }
    fields.forEach((field, j) => {
      const v = numberOf(field);
      if (v === undefined) {
        const name = hasHeader ? ` (${JSON.stringify(columns[j])})` : '';
        throw new TypeError(`${fn}: line ${line}, column ${j + 1}${name}: ${field === '' ? 'an empty field' : JSON.stringify(field)} is not a number`);
      }
      values[r * width + j] = v;
    });
  });
  return { columns, hasHeader, rows: data.length, values };
}

/**
 * The given columns of every row, by index (0-based) or by header name, row-major: a
 * Float32Array of `table.rows × columns.length`, ready as a model input.
 */
export function selectColumns(table: CsvTable, columns: readonly (number | string)[]): Float32Array {
  const fn = 'selectColumns';
  if (!Array.isArray(columns) || columns.length === 0) throw new TypeError(`${fn}: columns must be a non-empty array of column indices or names`);
  const width = table.columns.length;
  const picked = columns.map((c) => {
    const j = typeof c === 'string' ? table.columns.indexOf(c) : c;
    if (!Number.isInteger(j) || j < 0 || j >= width) {
      const has = table.hasHeader ? `its columns: ${table.columns.map((n) => JSON.stringify(n)).join(', ')}` : 'it has no header row';
      throw new RangeError(`${fn}: the table has no column ${JSON.stringify(c)} (${width} columns, indices 0 to ${width - 1}; ${has})`);
    }
    return j;
  });
  const out = new Float32Array(table.rows * picked.length);
  for (let r = 0; r < table.rows; r++) {
    for (let k = 0; k < picked.length; k++) out[r * picked.length + k] = table.values[r * width + picked[k]!]!;
  }
  return out;
}
