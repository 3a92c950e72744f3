import * as assert from "uvu/assert";
import { isBuildImageError } from "../../src/errors.js";
import { parseInstruction, type Instruction } from "../../src/instructions/index.js";
import { parseDockerfile } from "../../src/parser/index.js";

/** Every instruction of `text`, typed (stage references become images: no plan here). */
export function parseAll(text: string): Instruction[] {
  const ast = parseDockerfile(text);
  const lines = text.split("\n");
  return ast.instructions.map((node) => parseInstruction(node, { lines, escape: ast.directives.escape }));
}

/** The one (last) instruction of `text`, narrowed to `kind`. */
export function one<K extends Instruction["kind"]>(kind: K, text: string): Extract<Instruction, { kind: K }> {
  const all = parseAll(text);
  const last = all[all.length - 1] as Instruction;
  assert.is(last.kind, kind);
  return last as Extract<Instruction, { kind: K }>;
}

export interface CaughtError extends Error {
  code: string;
  hint?: string;
  location: { file: string; line: number; column: number; lineText?: string };
}

/** Runs `fn`, asserts it throws a BuildImageError with `code` (and a message matching `message`). */
export function fails(fn: () => unknown, code: string, message?: RegExp): CaughtError {
  try {
    fn();
  } catch (err) {
    assert.ok(isBuildImageError(err), `not a BuildImageError: ${String(err)}`);
    assert.is((err as CaughtError).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return err as CaughtError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error("unreachable");
}
