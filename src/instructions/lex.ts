/**
 * Shell-word expansion as Docker's Dockerfile shell lexer does it (BuildKit `shell/lex.go`): quotes,
 * the escape character, `$V`, `${V}` and the `${V…}` modifiers. It is not a shell: no command
 * substitution, no globbing, no arithmetic. Every entry point funnels into one `processWord`, whose
 * result also says which variables a word used (for lint and for explaining cache misses).
 */
import { DockerfileError, type DockerfilePosition } from "../parser/index.js";

/** Variables visible to an expansion. Names are case-sensitive, as on Linux. */
export type Env = Readonly<Record<string, string>> | ReadonlyMap<string, string>;

export interface LexOptions {
  /** The Dockerfile's escape character: "\\" (default) or "`". */
  escape?: string;
  /** Keep quote characters in the result (used to expand a word now and split it later). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies: only `$` and escapes are special). */
  skipQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`) instead of expanding them. */
  keepUnset?: boolean;
}

export interface WordResult {
  /** The expanded word, quotes removed, spaces between words kept. */
  result: string;
  /** The expanded text split into words as Docker splits ENV/LABEL/EXPOSE arguments. */
  words: string[];
  /** Variables the word referenced that were set. */
  matched: Set<string>;
  /** Variables the word referenced that were not set. */
  unmatched: Set<string>;
}

/** A malformed word or a failed `${V?msg}`; `offset` counts code points into the word. */
export class ShellWordError extends Error {
  constructor(
    readonly code: "DOCKERFILE_BAD_SUBSTITUTION" | "DOCKERFILE_UNTERMINATED_QUOTE" | "DOCKERFILE_REQUIRED_VARIABLE",
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = "ShellWordError";
  }
}

const EOF = "";

function lookup(env: Env, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const record = env as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

/** Collects the words of an expansion: unquoted spaces separate words, quoted text never does. */
class WordSplitter {
  private word = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (/\s/u.test(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }

  addRaw(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  addExpanded(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  finish(): string[] {
    if (this.word.length > 0) this.words.push(this.word);
    this.word = "";
    this.inWord = false;
    return this.words;
  }
}

class Scanner {
  private readonly chars: string[];
  pos = 0;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private rawEscapes: boolean;
  private readonly escape: string;

  constructor(
    word: string,
    private readonly env: Env,
    private readonly options: LexOptions,
  ) {
    this.chars = Array.from(word);
    this.escape = options.escape ?? "\\";
    this.rawEscapes = options.rawEscapes ?? false;
  }

  peek(): string {
    return this.chars[this.pos] ?? EOF;
  }

  next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  fail(code: ShellWordError["code"], message: string): never {
    throw new ShellWordError(code, message, this.pos);
  }

  getEnv(name: string): string | undefined {
    const value = lookup(this.env, name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  /** Reads up to `stop` (consumed) or the end of the word. */
  processUntil(stop: string, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = "";
      const words = new WordSplitter();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { text, words: words.finish() };
        }
        if (ch === "$") {
          const value = this.processDollar();
          text += value;
          words.addExpanded(value);
        } else if ((ch === "'" || ch === '"') && !this.options.skipQuotes) {
          const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
          text += value;
          words.addRaw(value);
        } else {
          let c = this.next();
          if (c === this.escape) {
            if (this.rawEscapes) {
              words.addRaw(c);
              text += c;
            }
            c = this.next();
            if (c === EOF) break; // an escape at the very end is dropped
            words.addRaw(c);
          } else words.addChar(c);
          text += c;
        }
      }
      if (stop !== EOF) this.fail("DOCKERFILE_BAD_SUBSTITUTION", `unexpected end of statement while looking for matching ${stop}`);
      return { text, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    const open = this.next();
    let text = this.options.rawQuotes ? open : "";
    for (;;) {
      const ch = this.next();
      if (ch === EOF) this.fail("DOCKERFILE_UNTERMINATED_QUOTE", "unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return this.options.rawQuotes ? text + ch : text;
      text += ch;
    }
  }

  processDoubleQuote(): string {
    // Literal except `$` and the escape character, which escapes only " $ and itself.
    const open = this.next();
    let text = this.options.rawQuotes ? open : "";
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) this.fail("DOCKERFILE_UNTERMINATED_QUOTE", "unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.next();
        return this.options.rawQuotes ? text + ch : text;
      }
      if (ch === "$") {
        text += this.processDollar();
        continue;
      }
      let c = this.next();
      if (c === this.escape) {
        if (this.rawEscapes) text += c;
        const after = this.peek();
        if (after === EOF) continue;
        if (after === '"' || after === "$" || after === this.escape) c = this.next();
      }
      text += c;
    }
  }

  processName(): string {
    const first = this.peek();
    if (/\p{Nd}/u.test(first)) {
      let digits = "";
      while (this.peek() !== EOF && /\p{Nd}/u.test(this.peek())) digits += this.next();
      return digits;
    }
    if ("@*#?-$!0".includes(first) && first !== EOF) return this.next();
    let name = "";
    while (this.peek() !== EOF && /[\p{L}\p{Nd}_]/u.test(this.peek())) name += this.next();
    return name;
  }

  processDollar(): string {
    const start = this.pos;
    this.next();
    if (this.peek() !== "{") {
      const name = this.processName();
      if (name === "") return "$";
      const value = this.getEnv(name);
      if (value === undefined && this.options.keepUnset) return `$${name}`;
      return value ?? "";
    }
    this.next();
    const first = this.peek();
    if (first === EOF) this.fail("DOCKERFILE_BAD_SUBSTITUTION", "syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") this.fail("DOCKERFILE_BAD_SUBSTITUTION", "syntax error: bad substitution");
    const name = this.processName();
    let ch = this.next();
    let modifier = ch;
    if (ch === EOF) this.fail("DOCKERFILE_BAD_SUBSTITUTION", "syntax error: missing '}'");
    if (ch === "}") {
      const value = this.getEnv(name);
      if (value === undefined && this.options.keepUnset) return `\${${name}}`;
      return value ?? "";
    }
    if (ch === "/") return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ":") {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch;
    }
    if (!"+-?#%".includes(ch) || ch === EOF) this.fail("DOCKERFILE_BAD_SUBSTITUTION", `unsupported modifier (${modifier}) in substitution`);
    let word = this.processBraced(ch === "#" || ch === "%");
    const value = this.getEnv(name);
    if (value === undefined && this.options.keepUnset) return `\${${name}${modifier}${word}}`;
    const empty = value === undefined || (nullIsUnset && value === "");
    switch (ch) {
      case "-":
        return empty ? word : (value as string);
      case "+":
        return empty ? "" : word;
      case "?": {
        if (!empty) return value as string;
        const message = word !== "" ? word : value === undefined ? "is not allowed to be unset" : "is not allowed to be empty";
        throw new ShellWordError("DOCKERFILE_REQUIRED_VARIABLE", `${name}: ${message}`, start);
      }
      default: {
        // # and % trim the shortest match, ## and %% the longest.
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        return ch === "%" ? trimSuffix(word, value ?? "", greedy, this) : trimPrefix(word, value ?? "", greedy, this);
      }
    }
  }

  /** The word of `${V<op>word}`, up to its closing brace. */
  private processBraced(rawEscapes: boolean): string {
    try {
      return this.processUntil("}", rawEscapes).text;
    } catch (err) {
      if (err instanceof ShellWordError && this.peek() === EOF && err.code !== "DOCKERFILE_REQUIRED_VARIABLE") {
        this.fail("DOCKERFILE_BAD_SUBSTITUTION", "syntax error: missing '}'");
      }
      throw err;
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processUntil("/", true).text;
    } catch (err) {
      if (err instanceof ShellWordError && this.peek() === EOF) this.fail("DOCKERFILE_BAD_SUBSTITUTION", "syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.processBraced(true);
    const value = this.getEnv(name);
    if (value === undefined && this.options.keepUnset) return `\${${name}${all ? "//" : "/"}${pattern}/${replacement}}`;
    const re = patternToRegExp(pattern, true, false, all, this);
    // The replacement is literal text: no `$1` group references.
    return (value ?? "").replace(re, () => replacement);
  }
}

/**
 * A shell wildcard pattern (`?` one character, `*` any run, `\` escapes) as a RegExp; bracket
 * expressions are not supported, as in Docker.
 */
function patternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global: boolean, scanner: Scanner): RegExp {
  const chars = Array.from(pattern);
  let source = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === "*") source += greedy ? "[^]*" : "[^]*?";
    else if (ch === "?") source += "[^]";
    else if (ch === "\\") {
      const after = chars[i + 1];
      // `\}` and `\/` only protect the braces and slashes of ${}; they are not part of the pattern.
      if (after === "}" || after === "/") continue;
      if (after !== "*" && after !== "?" && after !== "\\") {
        scanner.fail("DOCKERFILE_BAD_SUBSTITUTION", `invalid pattern (${pattern}) in substitution: invalid escape '\\${after ?? ""}'`);
      }
      source += `\\${after}`;
      i++;
    } else if ("[]{}.+()|^$".includes(ch)) source += `\\${ch}`;
    else source += ch;
  }
  return new RegExp(source, global ? "gu" : "u");
}

function trimPrefix(pattern: string, value: string, greedy: boolean, scanner: Scanner): string {
  const match = patternToRegExp(pattern, greedy, true, false, scanner).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** Reverses a pattern but keeps each escape in front of the character it escapes: `a\*c` → `c\*a`. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const units: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "\\" && i < chars.length - 1) {
      units.push(`\\${chars[i + 1]}`);
      i++;
    } else units.push(chars[i] as string);
  }
  return units.reverse().join("");
}

function reverse(text: string): string {
  return Array.from(text).reverse().join("");
}

function trimSuffix(pattern: string, value: string, greedy: boolean, scanner: Scanner): string {
  // A RegExp finds the leftmost match, not the shortest rightmost one: search the reversed string.
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy, scanner));
}

/** Expands and splits one word; throws ShellWordError (with an offset) on malformed input. */
export function processWord(word: string, env: Env, options: LexOptions = {}): WordResult {
  const scanner = new Scanner(word, env, options);
  const { text, words } = scanner.processUntil(EOF, options.rawEscapes ?? false);
  return { result: text, words, matched: scanner.matched, unmatched: scanner.unmatched };
}

/** Where expandWord/splitWords errors point, plus the lexer options. */
export interface ExpandOptions extends LexOptions {
  position?: DockerfilePosition;
}

/** The ShellWordError as a DockerfileError at `position` (or at its offset in the word alone). */
export function toDockerfileError(err: ShellWordError, position: DockerfilePosition | undefined): DockerfileError {
  const hint =
    err.code === "DOCKERFILE_REQUIRED_VARIABLE"
      ? "define the variable with ARG or ENV, or pass it with --build-arg"
      : err.code === "DOCKERFILE_UNTERMINATED_QUOTE"
        ? "close the quote, or escape it"
        : "check the ${…} syntax; a literal $ is written \\$";
  return new DockerfileError(err.code, err.message, { ...(position ?? { line: 1, column: err.offset + 1 }), hint: position?.hint ?? hint, cause: err });
}

function run(word: string, env: Env, options: ExpandOptions): WordResult {
  try {
    return processWord(word, env, options);
  } catch (err) {
    if (err instanceof ShellWordError) throw toDockerfileError(err, options.position);
    throw err;
  }
}

/** `word` with its variables expanded and quotes removed, as Docker expands WORKDIR, USER, COPY paths… */
export function expandWord(word: string, env: Env, options: ExpandOptions = {}): string {
  return run(word, env, options).result;
}

/** `text` expanded, then split into words on unquoted whitespace, as Docker does for EXPOSE and the like. */
export function splitWords(text: string, env: Env, options: ExpandOptions = {}): string[] {
  return run(text, env, options).words;
}

/** expandWord plus which variables were used and which were missing. */
export function expandWordWithMatches(word: string, env: Env, options: ExpandOptions = {}): WordResult {
  return run(word, env, options);
}
