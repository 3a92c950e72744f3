import type { DockerfileNode, Heredoc, ParseResult, ParseWarning, Position } from "./ast.js";
import { DirectiveReader } from "./directives.js";
import { DockerfileError } from "./errors.js";
import { heredocsFromLine } from "./heredoc.js";
import { shapeArguments } from "./line-parsers.js";
import { LineProblem } from "./problem.js";
import { splitCommand } from "./split-command.js";
import { skipSpace } from "./text.js";

const heredocKeywords = new Set(["RUN", "COPY", "ADD"]);

/** Source lines one at a time, as BuildKit's scanLines: `start`..`end` is the line without its "\r\n". */
class Lines {
  line = 0;
  start = 0;
  end = 0;
  /** Where the next line starts (just after this line's "\n"). */
  pos: number;

  constructor(readonly text: string) {
    this.pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not part of line 1
  }

  next(): boolean {
    const text = this.text;
    if (this.pos >= text.length) return false;
    let nl = text.indexOf("\n", this.pos);
    if (nl < 0) nl = text.length;
    let end = nl;
    while (end > this.pos) {
      const c = text.charCodeAt(end - 1);
      if (c !== 0x0d && c !== 0x0a) break;
      end--;
    }
    this.start = this.pos;
    this.end = end;
    this.pos = nl < text.length ? nl + 1 : nl;
    this.line++;
    return true;
  }
}

/** Where a stretch of the logical (joined) line came from in the source. */
interface Segment {
  at: number;
  source: number;
  line: number;
  column: number;
}

/** One instruction being built: its joined text and the map back to the source. */
interface Logical {
  text: string;
  segments: Segment[];
  /** End of the last source line that contributed text (for `original`). */
  contentEnd: number;
}

/**
 * Parse a Dockerfile into its syntax tree, as BuildKit's frontend/dockerfile/parser does: directives,
 * continuation lines, comments, heredocs, flags, exec vs shell form. Throws a `DockerfileError` on a
 * syntax error; things BuildKit only warns about come back in `warnings`.
 */
export function parseDockerfile(text: string): ParseResult {
  const lines = new Lines(text);
  const directives = new DirectiveReader();
  const instructions: DockerfileNode[] = [];
  const warnings: ParseWarning[] = [];

  while (lines.next()) {
    const startLine = lines.line;
    const first = skipSpace(text, lines.start, lines.end);
    if (!directives.done) {
      try {
        directives.consider(text.slice(first, lines.end), startLine);
      } catch (err) {
        throw located(err, text, [{ at: 0, source: first, line: startLine, column: first - lines.start + 1 }]);
      }
    }
    if (first === lines.end || text.charCodeAt(first) === 0x23 /* # */) continue;

    const escape = directives.escape;
    const logical: Logical = {
      text: "",
      segments: [{ at: 0, source: first, line: startLine, column: first - lines.start + 1 }],
      contentEnd: lines.end,
    };
    let emptyLine = 0;
    let cut = continuationCut(text, first, lines.end, escape);
    if (cut < 0) logical.text = text.slice(first, lines.end);
    else {
      logical.text = text.slice(first, cut);
      while (lines.next()) {
        const s = skipSpace(text, lines.start, lines.end);
        if (s < lines.end && text.charCodeAt(s) === 0x23) continue; // a comment inside a continuation
        if (s === lines.end) {
          if (emptyLine === 0) emptyLine = lines.line;
          continue;
        }
        logical.segments.push({ at: logical.text.length, source: lines.start, line: lines.line, column: 1 });
        logical.contentEnd = lines.end;
        cut = continuationCut(text, lines.start, lines.end, escape);
        if (cut < 0) {
          logical.text += text.slice(lines.start, lines.end);
          break;
        }
        logical.text += text.slice(lines.start, cut);
      }
    }
    if (emptyLine !== 0) {
      warnings.push({
        code: "DOCKERFILE_EMPTY_CONTINUATION",
        message: `Empty continuation line found in: ${logical.text}`,
        line: emptyLine,
        column: 1,
      });
    }

    let node: DockerfileNode;
    try {
      node = buildNode(text, logical, logical.text, 0, escape, startLine);
      const target = node.keyword === "ONBUILD" && node.next !== undefined ? node.next : node;
      if (heredocKeywords.has(target.keyword) && !target.json && logical.text.includes("<<")) {
        node.heredocs = readHeredocs(lines, logical);
        target.heredocs = node.heredocs;
      }
    } catch (err) {
      throw located(err, text, logical.segments);
    }
    node.endLine = lines.line;
    if (node.next !== undefined) node.next.endLine = lines.line;
    instructions.push(node);
  }

  if (instructions.length === 0) {
    throw new DockerfileError("DOCKERFILE_EMPTY", "file with no instructions", {
      line: Math.max(1, lines.line),
      column: 1,
      hint: "A Dockerfile needs at least one instruction, usually FROM.",
    });
  }
  return { directives: directives.result(), instructions, warnings };
}

/**
 * BuildKit's line-continuation rule: the escape character as the last non-blank ([ \t]) character,
 * unless it is itself preceded by the escape character. Returns where the kept text ends, or -1.
 */
function continuationCut(text: string, from: number, to: number, escape: string): number {
  const esc = escape.charCodeAt(0);
  let j = to;
  while (j > from) {
    const c = text.charCodeAt(j - 1);
    if (c !== 0x20 && c !== 0x09) break;
    j--;
  }
  if (j === from || text.charCodeAt(j - 1) !== esc) return -1;
  if (j - 1 > from && text.charCodeAt(j - 2) === esc) return -1;
  return j - 1;
}

/** newNodeFromLine: keyword, flags, then the keyword's argument shape; ONBUILD recurses. */
function buildNode(text: string, logical: Logical, line: string, base: number, escape: string, startLine: number): DockerfileNode {
  const split = splitCommand(line);
  const keyword = split.command.toUpperCase();
  const shaped = shapeArguments(keyword, split.args, base + split.argsOffset, escape);
  const keywordAt = base + split.commandOffset;
  const at = position(logical.segments, keywordAt);
  const node: DockerfileNode = {
    keyword,
    flags: split.flags,
    args: shaped.args,
    pairs: shaped.pairs,
    json: shaped.json,
    heredocs: [],
    next: undefined,
    startLine: base === 0 ? startLine : at.line,
    startColumn: base === 0 && at.line !== startLine ? 1 : at.column,
    flagPositions: split.flagOffsets.map((offset) => position(logical.segments, base + offset)),
    argsPosition: split.args === "" ? undefined : position(logical.segments, base + split.argsOffset),
    endLine: startLine,
    original: text.slice(sourceOffset(logical.segments, keywordAt), logical.contentEnd),
  };
  if (shaped.nested) node.next = buildNode(text, logical, split.args, base + split.argsOffset, escape, startLine);
  return node;
}

/** The bodies of the heredocs named on the instruction line, read in order after it. */
function readHeredocs(lines: Lines, logical: Logical): Heredoc[] {
  const text = lines.text;
  return heredocsFromLine(logical.text).map((word) => {
    let content = "";
    let terminated = false;
    while (lines.next()) {
      let s = lines.start;
      if (word.chomp) while (s < lines.end && text.charCodeAt(s) === 0x09) s++;
      if (lines.end - s === word.name.length && text.startsWith(word.name, s)) {
        terminated = true;
        break;
      }
      content += text.slice(lines.start, lines.pos);
    }
    const at = position(logical.segments, word.offset);
    if (!terminated) {
      throw new DockerfileError("DOCKERFILE_UNTERMINATED_HEREDOC", `unterminated heredoc ${word.name}`, {
        line: at.line,
        column: at.column,
        lineText: lineTextAt(text, sourceOffset(logical.segments, word.offset)),
        hint: `End the heredoc with a line that is exactly "${word.name}"${word.chomp ? " (leading tabs allowed)" : ""}.`,
      });
    }
    if (word.chomp) content = content.replace(/(^|\n)\t+/g, "$1");
    return { name: word.name, content, expand: word.expand, chomp: word.chomp, fd: word.fd, line: at.line, column: at.column };
  });
}

function segmentAt(segments: Segment[], at: number): Segment {
  let i = segments.length - 1;
  while (i > 0 && segments[i]!.at > at) i--;
  return segments[i]!;
}

function position(segments: Segment[], at: number): Position {
  const seg = segmentAt(segments, at);
  return { line: seg.line, column: seg.column + (at - seg.at) };
}

function sourceOffset(segments: Segment[], at: number): number {
  const seg = segmentAt(segments, at);
  return seg.source + (at - seg.at);
}

function lineTextAt(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  let end = text.indexOf("\n", offset);
  if (end < 0) end = text.length;
  if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
  return text.slice(start === 0 && text.charCodeAt(0) === 0xfeff ? 1 : start, end);
}

/** The one place a problem inside a line gets its location in the file. */
function located(err: unknown, text: string, segments: Segment[]): unknown {
  if (!(err instanceof LineProblem)) return err;
  const at = position(segments, err.offset);
  return new DockerfileError(err.code, err.message, {
    line: at.line,
    column: at.column,
    lineText: lineTextAt(text, sourceOffset(segments, err.offset)),
    hint: err.hint,
  });
}
