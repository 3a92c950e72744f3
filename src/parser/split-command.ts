import { isListSpace, isSpace, skipSpace, skipSpaceBack } from "./text.js";

/** One logical line cut into keyword, builder flags and the rest, with offsets into the line. */
export interface SplitLine {
  /** The keyword as written. */
  command: string;
  commandOffset: number;
  flags: string[];
  flagOffsets: number[];
  /** The arguments after the flags, trimmed. */
  args: string;
  argsOffset: number;
}

/**
 * BuildKit's splitCommand: trim the line, cut the keyword off at the first `[\t\v\f\r ]` run, then take
 * the builder flags off the front of the rest.
 */
export function splitCommand(line: string): SplitLine {
  const start = skipSpace(line, 0, line.length);
  const end = skipSpaceBack(line, start, line.length);
  let i = start;
  while (i < end && !isListSpace(line.charCodeAt(i))) i++;
  const split: SplitLine = { command: line.slice(start, i), commandOffset: start, flags: [], flagOffsets: [], args: "", argsOffset: end };
  while (i < end && isListSpace(line.charCodeAt(i))) i++;
  if (i === end) return split;
  const argsFrom = extractBuilderFlags(line, i, end, split.flags, split.flagOffsets);
  const argsStart = skipSpace(line, argsFrom, end);
  split.args = line.slice(argsStart, end);
  split.argsOffset = argsStart;
  return split;
}

/**
 * BuildKit's extractBuilderFlags: words that start with `--` are flags, until the first word that does
 * not (or a lone `--`). Quotes are removed and `\` escapes the next character inside a flag, so
 * `--chown="a b"` gives `--chown=a b`. Returns where the arguments begin.
 */
export function extractBuilderFlags(line: string, from: number, to: number, flags: string[], offsets: number[]): number {
  let pos = from;
  for (;;) {
    pos = skipSpace(line, pos, to);
    if (pos >= to) return to;
    if (line.charCodeAt(pos) !== 0x2d || pos + 1 >= to || line.charCodeAt(pos + 1) !== 0x2d) return pos;
    const wordStart = pos;
    let plain = true;
    while (pos < to && !isSpace(line.charCodeAt(pos))) {
      const c = line.charCodeAt(pos);
      if (c === 0x22 || c === 0x27 || c === 0x5c) plain = false;
      pos++;
    }
    let word: string;
    let blankOK = false;
    if (plain) word = line.slice(wordStart, pos);
    else ({ word, end: pos, blankOK } = readFlagWord(line, wordStart, to));
    if (word === "--") return pos;
    if (word.length > 0 || blankOK) {
      flags.push(word);
      offsets.push(wordStart);
    }
    if (pos >= to) return to;
  }
}

/** The slow path of one flag word: quotes and backslash escapes (always `\`, whatever `# escape=` says). */
function readFlagWord(line: string, from: number, to: number): { word: string; end: number; blankOK: boolean } {
  let word = "";
  let quote = 0;
  let blankOK = false;
  let pos = from;
  for (; pos < to; pos++) {
    let c = line.charCodeAt(pos);
    if (quote === 0) {
      if (isSpace(c)) break;
      if (c === 0x27 || c === 0x22) {
        quote = c;
        blankOK = true;
        continue;
      }
    } else if (c === quote) {
      quote = 0;
      continue;
    }
    if (c === 0x5c) {
      if (pos + 1 === to) {
        quote = 0;
        continue;
      }
      c = line.charCodeAt(++pos);
    }
    word += String.fromCharCode(c);
  }
  return { word, end: pos, blankOK };
}
