import { createReadStream } from "node:fs";
import { CsvError, parse } from "csv-parse";
import { ConfigError, errorText } from "../errors.ts";

/** Rows a recipients file may hold, past which it is refused before anything is sent. */
export const MAX_RECIPIENT_ROWS = 1_000_000;
/** Characters of one row: a phone number and a few columns of the sender's own fit with room to spare. */
const MAX_ROW_CHARS = 10_000;
/** Header names of the column that holds the identities, lower case, first match wins. */
const IDENTITY_COLUMNS = ["phone", "identity", "number"];
/** Refused rows the summary lists one by one. */
export const LISTED_REFUSALS = 10;

export interface RefusedRow {
  /** The row's line in the file (1 is the first). */
  line: number;
  value: string;
  reason: string;
}

export interface Recipients {
  /** Each identity once, in file order. */
  identities: string[];
  /** Rows whose identity came earlier in the file. */
  duplicates: number;
  /** Rows with nothing in the identity column. */
  blank: number;
  /** Rows whose identity cannot be sent to, in file order. */
  refused: RefusedRow[];
  /** The header's name of the column read, or null when the file has no header (the first column is read). */
  column: string | null;
}

/**
 * Reads a CSV file of recipients: with a header row naming a `phone`, `identity` or `number`
 * column, that column; without one, the first column. Blank lines and blank cells are skipped, a
 * number seen before is counted as a duplicate, and `unfit` says why an identity cannot be sent to.
 * Throws ConfigError for a file that cannot be read, is not CSV, or is too long.
 */
export async function readRecipients(
  path: string,
  unfit: (identity: string) => string | undefined,
  { maxRows = MAX_RECIPIENT_ROWS }: { maxRows?: number } = {},
): Promise<Recipients> {
  const result: Recipients = { identities: [], duplicates: 0, blank: 0, refused: [], column: null };
  const seen = new Set<string>();
  let column: number | undefined;
  let rows = 0;
  const input = createReadStream(path);
  const parser = input.pipe(parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_ROW_CHARS, trim: true }));
  // A pipe does not pass on the file's errors (there is no such file): the parser fails with them.
  input.once("error", (error) => parser.destroy(error));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (column === undefined) {
        column = headerColumn(record);
        if (column !== undefined) {
          result.column = record[column];
          continue;
        }
        if (record.every((cell) => !/\d/.test(cell)))
          throw new ConfigError(
            `send --file: ${path}: the first row (${JSON.stringify(record.join(",").slice(0, 80))}) looks like a header, but no column is named phone, identity or number: name the column of numbers so`,
          );
        column = 0;
      }
      if (++rows > maxRows)
        throw new ConfigError(`send --file: ${path} has more than ${maxRows.toLocaleString("en")} rows: split it into files of at most that many`);
      const identity = record[column] ?? "";
      if (identity === "") {
        result.blank++;
        continue;
      }
      const reason = unfit(identity);
      if (reason) result.refused.push({ line: info.lines, value: identity, reason });
      else if (seen.has(identity)) result.duplicates++;
      else {
        seen.add(identity);
        result.identities.push(identity);
      }
    }
  } catch (error) {
    parser.destroy();
    if (error instanceof ConfigError) throw error;
    const where = error instanceof CsvError && (error as { lines?: number }).lines ? ` line ${(error as { lines?: number }).lines}` : "";
    throw new ConfigError(`send --file: cannot read ${path}${where}: ${errorText(error)}`, { cause: error });
  }
  return result;
}

/** The index of the first header cell naming an identity column, or undefined when the row is not such a header. */
function headerColumn(row: readonly string[]): number | undefined {
  const names = row.map((cell) => cell.toLowerCase());
  for (const wanted of IDENTITY_COLUMNS) {
    const at = names.indexOf(wanted);
    if (at >= 0) return at;
  }
  return undefined;
}
