import { readFileSync } from "node:fs";

/**
 * The JSON code blocks of a guide (```json … ```), parsed, in order: a test runs the
 * configuration the guide shows rather than a copy of it.
 */
export function docJsonBlocks(path: URL | string): unknown[] {
  const text = readFileSync(path, "utf8");
  return [...text.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map(([, block], i) => {
    try {
      return JSON.parse(block) as unknown;
    } catch (error) {
      throw new Error(`${String(path)}: JSON block ${i + 1} does not parse: ${(error as Error).message}`);
    }
  });
}
