// A compact s-expression dump of the syntax tree, in the style of BuildKit's parser testfiles
// (`(healthcheck ["--timeout=3s"] "CMD" "foo")`), so a case reads as input → expected output.
import { parseDockerfile, type DockerfileNode } from "../../src/parser/index.js";

export function dumpNode(node: DockerfileNode): string {
  let out = node.keyword.toLowerCase();
  if (node.flags.length > 0) out += ` [${node.flags.map((f) => JSON.stringify(f)).join(" ")}]`;
  if (node.next !== undefined) out += ` (${dumpNode(node.next)})`;
  else for (const arg of node.args) out += ` ${JSON.stringify(arg)}`;
  return out;
}

/** One line per instruction, as BuildKit's `result` files. */
export function dump(text: string): string {
  return parseDockerfile(text)
    .instructions.map((node) => `(${dumpNode(node)})`)
    .join("\n");
}

/** The code of the DockerfileError that parsing `text` throws, or "no error". */
export function errorOf(text: string): { code: string; message: string; line: number; column: number; lineText: string | undefined } | "no error" {
  try {
    parseDockerfile(text);
    return "no error";
  } catch (err) {
    const e = err as { code: string; message: string; location: { line: number; column: number; lineText?: string } };
    return { code: e.code, message: e.message, line: e.location.line, column: e.location.column, lineText: e.location.lineText };
  }
}
