// The argument shapes of BuildKit's line_parsers.go, and the keyword → shape table of parser.go's
// init(). A shape gets the arguments after keyword and flags (trimmed) and returns them split as
// that instruction wants them; it knows nothing about what they mean.
import type { KeyValue } from "./ast.js";
import { LineProblem } from "./problem.js";
import { isSpace, isListSpace, skipSpace, splitList } from "./text.js";

export interface Shaped {
  args: string[];
  json: boolean;
  pairs?: KeyValue[];
  /** ONBUILD: the arguments are an instruction of their own. */
  nested?: boolean;
}

/** `rest` is trimmed; `offset` is where it starts in the logical line (for problem positions). */
type Shape = (rest: string, offset: number, escape: string) => Shaped;

const none = (): Shaped => ({ args: [], json: false });

/** parseIgnore: unknown keywords keep no arguments (the instructions layer reports them). */
const ignore: Shape = none;

/** parseString: the whole rest as one argument. */
const whole: Shape = (rest) => (rest === "" ? none() : { args: [rest], json: false });

/** parseStringsWhitespaceDelimited. */
const list: Shape = (rest) => (rest === "" ? none() : { args: splitList(rest), json: false });

/** parseMaybeJSON: exec form if the rest is a JSON array of strings, else one shell-form string. */
const maybeJson: Shape = (rest, offset) => {
  if (rest === "") return none();
  const array = parseJsonArray(rest, offset);
  return array === undefined ? { args: [rest], json: false } : { args: array, json: true };
};

/** parseMaybeJSONToList: a JSON array, else a whitespace-delimited list. */
const maybeJsonToList: Shape = (rest, offset) => {
  const array = parseJsonArray(rest, offset);
  return array === undefined ? list(rest, offset, "") : { args: array, json: true };
};

/** parseHealthConfig: a type word (CMD, NONE, …), then parseMaybeJSON. */
const healthConfig: Shape = (rest, offset, escape) => {
  let sep = 0;
  while (sep < rest.length && !isSpace(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return none();
  const next = skipSpace(rest, sep, rest.length);
  const command = maybeJson(rest.slice(next), offset + next, escape);
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
};

/** parseSubCommand: ONBUILD keeps the trigger text as its argument; the caller parses it as a node. */
const subCommand: Shape = (rest) => (rest === "" ? none() : { args: [rest], json: false, nested: true });

/** parseNameOrNameVal (ARG): words, each `name` or `name=value`. */
const nameOrNameVal: Shape = (rest, _offset, escape) => {
  const { words } = parseWords(rest, escape);
  return { args: words, json: false, pairs: words.map(splitPair) };
};

/**
 * parseNameVal (ENV, LABEL): `k=v k2="v 2"` pairs, or the legacy `k v…` form when the first word has
 * no `=` (then the value is everything after the first blank run, spaces included).
 */
function nameVal(keyword: string): Shape {
  return (rest, offset, escape) => {
    const { words, starts } = parseWords(rest, escape);
    if (words.length === 0) return { args: [], json: false, pairs: [] };
    if (!words[0]!.includes("=")) {
      let i = 0;
      while (i < rest.length && !isListSpace(rest.charCodeAt(i))) i++;
      if (i === rest.length) {
        throw new LineProblem("DOCKERFILE_SYNTAX", `${keyword} must have two arguments`, offset, `Write "${keyword} name=value" (or the legacy "${keyword} name value").`);
      }
      let j = i;
      while (j < rest.length && isListSpace(rest.charCodeAt(j))) j++;
      const pair: KeyValue = { key: rest.slice(0, i), value: rest.slice(j), separator: " " };
      return { args: [pair.key, pair.value], json: false, pairs: [pair] };
    }
    const pairs: KeyValue[] = [];
    const args: string[] = [];
    words.forEach((word, n) => {
      const eq = word.indexOf("=");
      if (eq < 0) {
        throw new LineProblem(
          "DOCKERFILE_SYNTAX",
          `Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`,
          offset + starts[n]!,
          `Give "${word}" a value: ${word}=value (quote values that contain spaces).`,
        );
      }
      const pair: KeyValue = { key: word.slice(0, eq), value: word.slice(eq + 1), separator: "=" };
      pairs.push(pair);
      args.push(pair.key, pair.value);
    });
    return { args, json: false, pairs };
  };
}

function splitPair(word: string): KeyValue {
  const eq = word.indexOf("=");
  return eq < 0 ? { key: word, value: "", separator: "" } : { key: word.slice(0, eq), value: word.slice(eq + 1), separator: "=" };
}

/** The keyword → shape table (parser.go's dispatch); anything else is parseIgnore. */
const shapes: ReadonlyMap<string, Shape> = new Map<string, Shape>([
  ["ADD", maybeJsonToList],
  ["ARG", nameOrNameVal],
  ["CMD", maybeJson],
  ["COPY", maybeJsonToList],
  ["ENTRYPOINT", maybeJson],
  ["ENV", nameVal("ENV")],
  ["EXPOSE", list],
  ["FROM", list],
  ["HEALTHCHECK", healthConfig],
  ["LABEL", nameVal("LABEL")],
  ["MAINTAINER", whole],
  ["ONBUILD", subCommand],
  ["RUN", maybeJson],
  ["SHELL", maybeJson],
  ["STOPSIGNAL", whole],
  ["USER", whole],
  ["VOLUME", maybeJsonToList],
  ["WORKDIR", whole],
]);

export function shapeArguments(keyword: string, rest: string, offset: number, escape: string): Shaped {
  return (shapes.get(keyword) ?? ignore)(rest, offset, escape);
}

/**
 * parseJSON: undefined when `rest` is not a JSON array at all (the caller falls back to shell form,
 * exactly as BuildKit does for any unmarshal error); a problem when it is an array of non-strings.
 */
function parseJsonArray(rest: string, offset: number): string[] | undefined {
  if (rest.charCodeAt(0) !== 0x5b /* [ */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(rest);
  } catch {
    return undefined;
  }
  const array = value as unknown[];
  for (const item of array) {
    if (typeof item !== "string") {
      throw new LineProblem(
        "DOCKERFILE_JSON_NOT_STRINGS",
        "when using JSON array syntax, arrays must be comprised of strings only",
        offset,
        'Quote every element, e.g. ["sleep", "10"], or write the command in shell form.',
      );
    }
  }
  return array as string[];
}

/**
 * BuildKit's parseWords: split on (Unicode) whitespace outside quotes; quotes and escapes stay in the
 * words as written (they are removed later, at expansion). Only an escape character at the very end
 * of the input is dropped.
 */
export function parseWords(rest: string, escape: string): { words: string[]; starts: number[] } {
  const esc = escape.charCodeAt(0);
  const words: string[] = [];
  const starts: number[] = [];
  const n = rest.length;
  let i = 0;
  while (i < n) {
    i = skipSpace(rest, i, n);
    if (i >= n) break;
    const start = i;
    let quote = 0;
    let end = n;
    while (i < n) {
      const c = rest.charCodeAt(i);
      if (quote === 0 && isSpace(c)) {
        end = i;
        break;
      }
      if (quote === 0 && (c === 0x27 || c === 0x22)) quote = c;
      else if (quote !== 0 && c === quote) quote = 0;
      else if (c === esc && quote !== 0x27) {
        if (i + 1 === n) {
          end = n - 1;
          i++;
          break;
        }
        i++;
      }
      i++;
    }
    if (end > start) {
      words.push(rest.slice(start, end));
      starts.push(start);
    }
  }
  return { words, starts };
}
