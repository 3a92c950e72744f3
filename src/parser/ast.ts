/**
 * The Dockerfile syntax tree: what `parseDockerfile` returns. Syntax only, no meaning: nothing is
 * expanded, no flag is validated. Lines and columns are 1-based and point into the original text.
 */

/** A parser directive (`# escape=\``, `# syntax=…`, `# check=…`) honoured at the top of the file. */
export interface Directive {
  name: string; // lower-case: "escape" | "syntax" | "check"
  value: string;
  line: number;
}

export interface Directives {
  /** The escape character in force: "\\" (default) or "`". */
  escape: string;
  syntax: string | undefined;
  check: string | undefined;
  list: Directive[];
}

/** A heredoc attached to RUN, COPY or ADD (`<<EOF`, `<<-EOF`, `<<"EOF"`). */
export interface Heredoc {
  name: string;
  /** The body, without the terminator line; with `<<-` leading tabs are already stripped. */
  content: string;
  /** False when the word was quoted (`<<"EOF"`, `<<'EOF'`): no expansion inside. */
  expand: boolean;
  /** True for `<<-` (leading tabs stripped). */
  chomp: boolean;
  /** Added by the parser: the file descriptor written before `<<` (`3<<EOF`), 0 when none. */
  fd?: number;
  /** Added by the parser: where the `<<WORD` is written in the instruction. */
  line?: number;
  column?: number;
}

/** One key/value pair of ENV, LABEL (and `ARG k=v`), raw: quotes and `$` are still as written. */
export interface KeyValue {
  key: string;
  value: string;
  /**
   * Added by the parser: what stood between key and value. "=" for `k=v`, " " for the legacy
   * `ENV k v` / `LABEL k v` form, "" for a bare `ARG name` (no default; `value` is then "").
   */
  separator?: "=" | " " | "";
}

/** A 1-based line and column in the Dockerfile. */
export interface Position {
  line: number;
  column: number;
}

export interface ParseWarning {
  code: string;
  message: string;
  line: number;
  column: number;
}

export interface DockerfileNode {
  /** Upper-case keyword, e.g. "RUN". Unknown keywords are kept as written, upper-cased. */
  keyword: string;
  /** Flags as written, e.g. ["--from=build", "--chown=1:1"]. */
  flags: string[];
  /**
   * Shell form: one element, continuations joined as Docker joins them. Exec form: the JSON elements.
   * ENV/LABEL: the pairs flattened to [k1, v1, k2, v2, …] (as BuildKit's node list), also in `pairs`.
   */
  args: string[];
  /** ENV and LABEL (and ARG): the key/value pairs. */
  pairs: KeyValue[] | undefined;
  /** True for exec (JSON) form. */
  json: boolean;
  heredocs: Heredoc[];
  /** ONBUILD's inner instruction. */
  next: DockerfileNode | undefined;
  startLine: number;
  /** Column of the keyword on `startLine`. */
  startColumn: number;
  /** Added by the parser: where each entry of `flags` starts (same order). */
  flagPositions?: Position[];
  /** Added by the parser: where the arguments (after keyword and flags) start; undefined when there are none. */
  argsPosition?: Position;
  /** Last line of the instruction, heredoc bodies and their terminator lines included (as BuildKit). */
  endLine: number;
  /** The instruction's text as written, continuation lines included (heredoc bodies excluded). */
  original: string;
}

export interface ParseResult {
  directives: Directives;
  instructions: DockerfileNode[];
  warnings: ParseWarning[];
}
