import type { Directive, Directives } from "./ast.js";
import { LineProblem } from "./problem.js";
import { skipSpace } from "./text.js";

const known = new Set(["syntax", "escape", "check"]);
// BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`; Go's `\s` is ASCII `[\t\n\f\r ]` only.
const directiveLine = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*([^\n]+?)[\t\n\f\r ]*$/;

/**
 * Parser directives, as BuildKit's DirectiveParser reads them: `# name=value` lines at the very top.
 * The first line that is not one (an instruction, a plain comment, an unknown `# foo=bar`, a blank
 * line) ends the search for good; after that, `# escape=…` is just a comment.
 */
export class DirectiveReader {
  done = false;
  escape = "\\";
  readonly list: Directive[] = [];

  /** `line` is one source line with its leading whitespace already removed. */
  consider(line: string, lineNumber: number): void {
    if (this.done) return;
    if (line.charCodeAt(0) !== 0x23 /* # */) {
      this.done = true;
      return;
    }
    const match = directiveLine.exec(line.slice(skipSpace(line, 1, line.length)));
    const name = match?.[1]?.toLowerCase();
    if (match === null || name === undefined || !known.has(name)) {
      this.done = true;
      return;
    }
    const value = match[2] ?? "";
    // A repeated directive is a comment, and ends the directives (BuildKit rejects it instead).
    if (this.list.some((d) => d.name === name)) {
      this.done = true;
      return;
    }
    if (name === "escape" && value !== "\\" && value !== "`") {
      throw new LineProblem("DOCKERFILE_INVALID_ESCAPE", `invalid escape token '${value}' does not match \` or \\`, 0, "Use \"# escape=\\\\\" or \"# escape=`\".");
    }
    if (name === "escape") this.escape = value;
    this.list.push({ name, value, line: lineNumber });
  }

  result(): Directives {
    return {
      escape: this.escape,
      syntax: this.list.find((d) => d.name === "syntax")?.value,
      check: this.list.find((d) => d.name === "check")?.value,
      list: this.list,
    };
  }
}
