// Finding heredocs the way BuildKit does: lex the whole logical line as shell words (quotes, escapes
// and unset `$vars` kept as written), then match each word against `^(\d*)<<(-?)([^<]*)$`. The
// terminator word is lexed twice more, with and without quotes, to learn whether it was quoted
// (quoted ⇒ no expansion). BuildKit's shell lexer always uses `\` here, whatever `# escape=` says.
import { LineProblem } from "./problem.js";
import { isSpace } from "./text.js";

export interface HeredocWord {
  name: string;
  expand: boolean;
  chomp: boolean;
  fd: number;
  /** Where the `<<word` starts in the lexed line. */
  offset: number;
}

const heredocWord = /^(\d*)<<(-?)([^<]*)$/;

/** Every heredoc word of a RUN/COPY/ADD line, in order. A line the shell lexer rejects has none. */
export function heredocsFromLine(line: string): HeredocWord[] {
  const lexed = lexWords(line, true, true);
  if (lexed === undefined) return [];
  const docs: HeredocWord[] = [];
  lexed.words.forEach((word, i) => {
    const doc = parseHeredocWord(word, lexed.starts[i]!);
    if (doc !== undefined) docs.push(doc);
  });
  return docs;
}

function parseHeredocWord(word: string, offset: number): HeredocWord | undefined {
  const match = heredocWord.exec(word);
  if (match === null) return undefined;
  const rest = match[3]!;
  if (rest === "") return undefined;
  const plain = lexWords(rest, false, false);
  const raw = lexWords(rest, true, false);
  if (plain === undefined || raw === undefined) {
    throw new LineProblem("DOCKERFILE_SYNTAX", `invalid heredoc delimiter ${JSON.stringify(rest)}`, offset, "Quote the heredoc delimiter, e.g. <<'EOF'.");
  }
  if (plain.words.length !== 1) return undefined;
  const name = plain.words[0]!;
  return {
    name,
    expand: countQuotes(name) === countQuotes(raw.words[0] ?? ""),
    chomp: match[2] === "-",
    fd: match[1] === "" ? 0 : Number(match[1]),
    offset,
  };
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

class LexFailure extends Error {}

interface Words {
  words: string[];
  starts: number[];
}

/** BuildKit's shell.Lex ProcessWords with SkipUnsetEnv and no variables; undefined on a lexing error. */
function lexWords(src: string, rawQuotes: boolean, rawEscapes: boolean): Words | undefined {
  try {
    return new ShellWords(src, rawQuotes, rawEscapes).run();
  } catch (err) {
    if (err instanceof LexFailure) return undefined;
    throw err;
  }
}

/** The word accumulator of lex.go (wordsStruct): empty words are never produced. */
class WordList {
  readonly words: string[] = [];
  readonly starts: number[] = [];
  private word = "";
  private start = 0;
  private inWord = false;

  addChar(ch: string, at: number): void {
    if (isSpace(ch.charCodeAt(0))) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.starts.push(this.start);
        this.word = "";
        this.inWord = false;
      }
    } else this.addRaw(ch, at);
  }

  addRaw(s: string, at: number): void {
    if (this.word.length === 0 && s.length > 0) this.start = at;
    this.word += s;
    this.inWord = true;
  }

  addString(s: string, at: number): void {
    for (let i = 0; i < s.length; i++) this.addChar(s[i]!, at);
  }

  finish(): Words {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.starts.push(this.start);
    }
    return { words: this.words, starts: this.starts };
  }
}

/** A port of the parts of lex.go that decide word boundaries and lexing errors. */
class ShellWords {
  private pos = 0;

  constructor(
    private readonly src: string,
    private readonly rawQuotes: boolean,
    private rawEscapes: boolean,
  ) {}

  run(): Words {
    return this.stopOn("", this.rawEscapes).words;
  }

  private peek(): string {
    return this.pos < this.src.length ? this.src[this.pos]! : "";
  }

  private stopOn(stop: string, rawEscapes: boolean): { result: string; words: Words } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const words = new WordList();
      let result = "";
      while (this.pos < this.src.length) {
        const at = this.pos;
        let ch = this.src[this.pos]!;
        if (stop !== "" && ch === stop) {
          this.pos++;
          return { result, words: words.finish() };
        }
        if (ch === "'" || ch === '"' || ch === "<") {
          const tmp = ch === "'" ? this.singleQuote() : ch === '"' ? this.doubleQuote() : this.possibleHeredoc();
          result += tmp;
          words.addRaw(tmp, at);
        } else if (ch === "$") {
          const tmp = this.dollar();
          result += tmp;
          words.addString(tmp, at);
        } else {
          this.pos++;
          if (ch === "\\") {
            if (this.rawEscapes) {
              words.addRaw(ch, at);
              result += ch;
            }
            if (this.pos >= this.src.length) break;
            ch = this.src[this.pos++]!;
            words.addRaw(ch, at);
          } else words.addChar(ch, at);
          result += ch;
        }
      }
      if (stop !== "") throw new LexFailure(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuote(): string {
    let result = this.rawQuotes ? "'" : "";
    this.pos++;
    for (;;) {
      if (this.pos >= this.src.length) throw new LexFailure("unexpected end of statement while looking for matching single-quote");
      const ch = this.src[this.pos++]!;
      if (ch === "'") return this.rawQuotes ? result + ch : result;
      result += ch;
    }
  }

  private doubleQuote(): string {
    let result = this.rawQuotes ? '"' : "";
    this.pos++;
    for (;;) {
      if (this.pos >= this.src.length) throw new LexFailure("unexpected end of statement while looking for matching double-quote");
      let ch = this.src[this.pos]!;
      if (ch === '"') {
        this.pos++;
        return this.rawQuotes ? result + ch : result;
      }
      if (ch === "$") {
        result += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === "\\") {
        if (this.rawEscapes) result += ch;
        const next = this.peek();
        if (next === "") continue;
        if (next === '"' || next === "$" || next === "\\") {
          ch = next;
          this.pos++;
        }
      }
      result += ch;
    }
  }

  /** `<<` swallows the blanks after it, so `<< EOF` is one word (as in lex.go). */
  private possibleHeredoc(): string {
    this.pos++;
    if (this.peek() !== "<") return "<";
    this.pos++;
    let result = "<<";
    while (this.pos < this.src.length && isSpace(this.src.charCodeAt(this.pos))) result += this.src[this.pos++];
    return result;
  }

  /** With no variables set and SkipUnsetEnv, every expansion comes back as written, or fails. */
  private dollar(): string {
    this.pos++;
    if (this.peek() !== "{") {
      const name = this.name();
      return "$" + name;
    }
    this.pos++;
    const first = this.peek();
    if (first === "") throw new LexFailure("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new LexFailure("syntax error: bad substitution");
    const name = this.name();
    let ch = this.peek();
    this.pos++;
    if (ch === "}") return "${" + name + "}";
    let modifier = ch;
    const nullIsUnset = ch === ":";
    if (nullIsUnset) {
      ch = this.peek();
      this.pos++;
      modifier += ch;
    }
    // After ':' lex.go falls through to the word case whatever the next character is.
    if (nullIsUnset || (ch !== "" && "+-?#%".includes(ch))) {
      const rawEscapes = ch === "#" || ch === "%";
      if (nullIsUnset && rawEscapes) throw new LexFailure(`unsupported modifier (${modifier}) in substitution`);
      const word = this.stopOn("}", rawEscapes).result;
      return "${" + name + modifier + word + "}";
    }
    if (ch === "/") {
      if (this.peek() === "/") this.pos++;
      const pattern = this.stopOn("/", true).result;
      const replacement = this.stopOn("}", true).result;
      return "${" + name + "/" + pattern + "/" + replacement + "}";
    }
    throw new LexFailure(`unsupported modifier (${modifier}) in substitution`);
  }

  private name(): string {
    let name = "";
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (name === "" && ch >= "0" && ch <= "9") {
        while (this.pos < this.src.length && this.src[this.pos]! >= "0" && this.src[this.pos]! <= "9") name += this.src[this.pos++];
        return name;
      }
      if (name === "" && "@*#?-$!".includes(ch)) {
        this.pos++;
        return ch;
      }
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += ch;
      this.pos++;
    }
    return name;
  }
}
