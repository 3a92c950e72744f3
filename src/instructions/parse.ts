/**
 * Syntax node → typed instruction, as BuildKit's `instructions/parse.go`: one parse function per
 * instruction behind one table; each declares its flags, then checks its arguments. Words are
 * left unexpanded (see expand.ts); values without variables are validated here already.
 */
import type { SourceLocation } from "../errors.js";
import type { DockerfileNode, Heredoc } from "../parser/index.js";
import { errorAt, locate } from "./errors.js";
import { flagSchemas, flagValue, parseFlags, type ParsedFlags } from "./flags.js";
import { parseMount } from "./mounts.js";
import { didYouMean } from "./suggest.js";
import type {
  InlineFile,
  Instruction,
  InstructionKind,
  KeyValuePair,
  SourceRef,
} from "./types.js";

export interface ParseContext {
  /** Shown in error locations; default "Dockerfile". */
  file?: string;
  /** The Dockerfile's lines, so errors can show the offending one. */
  lines?: readonly string[];
  /** The escape character in force (the `# escape=` directive); default "\\". */
  escape?: string;
  /** Turns a `--from` / `from=` name into a stage or an image; default: always an image. */
  resolveFrom?: (name: string, location: SourceLocation) => SourceRef;
}

type Fields<K extends InstructionKind> = Omit<Extract<Instruction, { kind: K }>, "location" | "node" | "escape" | "expanded" | "argsInScope" | "kind">;

interface Request {
  node: DockerfileNode;
  location: SourceLocation;
  keyword: string;
  ctx: ParseContext;
  /** Flags parsed against the instruction's declared flags. */
  flags(kind: InstructionKind, spec?: Record<string, "string" | "bool" | "strings">): ParsedFlags;
  fail(code: string, message: string, hint?: string): never;
}

const hasVariable = (s: string) => s.includes("$");

/** The node's location: line/column of its keyword, and the line's text when the context has it. */
export function nodeLocation(node: DockerfileNode, ctx: ParseContext = {}): SourceLocation {
  const location: SourceLocation = { file: ctx.file ?? "Dockerfile", line: node.startLine, column: node.startColumn, endLine: node.endLine };
  const lineText = ctx.lines?.[node.startLine - 1];
  if (lineText !== undefined) location.lineText = lineText.replace(/\r$/, "");
  return location;
}

/** Where a flag is written; on a continuation line, that line (with its text when known). */
function flagLocation(req: Request, text: string): SourceLocation {
  const index = req.node.flags.indexOf(text);
  const position = index < 0 ? undefined : req.node.flagPositions?.[index];
  if (position === undefined) return locate(req.location, text);
  if (position.line === req.location.line) return { ...req.location, column: position.column };
  const at: SourceLocation = { file: req.location.file, line: position.line, column: position.column };
  if (req.location.endLine !== undefined) at.endLine = req.location.endLine;
  const lineText = req.ctx.lines?.[position.line - 1]?.replace(/\r$/, "");
  if (lineText !== undefined) at.lineText = lineText;
  return at;
}

/** Whitespace-split words (FROM, EXPOSE, shell-form COPY/ADD/VOLUME), as the parser gave them. */
function words(node: DockerfileNode): string[] {
  if (node.json) return node.args;
  return node.args.flatMap((a) => a.split(/[ \t\r\n\v\f]+/).filter(Boolean));
}

function commandLine(node: DockerfileNode): { command: string[]; shell: boolean } {
  return node.json ? { command: [...node.args], shell: false } : { command: node.args.length === 0 ? [] : [node.args.join(" ")], shell: true };
}

function inlineFile(h: Heredoc): InlineFile {
  return { name: h.name, content: h.content, expand: h.expand, chomp: h.chomp };
}

const HEREDOC_WORD = /^<<(-?)\s*(["']?)([^"'\s<>]+)\2$/;

function pairs(req: Request): KeyValuePair[] {
  const list = req.node.pairs ?? [];
  if (list.length === 0) req.fail("DOCKERFILE_ARGUMENTS", `${req.keyword} requires at least one argument`, `write ${req.keyword} name=value`);
  for (const p of list) if (p.key === "") req.fail("DOCKERFILE_ARGUMENTS", `${req.keyword} names can not be blank`);
  return list.map((p) => ({ key: p.key, value: p.value }));
}

function exactlyOne(req: Request): string {
  const text = req.node.args.join(" ").trim();
  if (text === "") req.fail("DOCKERFILE_ARGUMENTS", `${req.keyword} requires exactly one argument`);
  return text;
}

function noFlags(req: Request): void {
  req.flags(req.keyword.toLowerCase() as InstructionKind, {});
}

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const parsers: { [K in InstructionKind]: (req: Request) => Fields<K> } = {
  from(req) {
    const flags = req.flags("from");
    const args = words(req.node);
    let name: string | undefined;
    if (args.length === 3 && args[1]?.toLowerCase() === "as") {
      name = (args[2] as string).toLowerCase();
      if (!VALID_STAGE_NAME.test(name)) {
        throw errorAt(
          locate(req.location, args[2] as string),
          "DOCKERFILE_INVALID_STAGE_NAME",
          `invalid name for build stage: '${args[2]}', name can't start with a number or contain symbols`,
          "use lower-case letters, digits, '-', '_' and '.', starting with a letter",
        );
      }
    } else if (args.length !== 1) {
      req.fail("DOCKERFILE_ARGUMENTS", "FROM requires either one or three arguments", "write FROM image [AS name]");
    }
    return { image: args[0] as string, name, platform: flags.strings.get("platform") };
  },

  run(req) {
    const flags = req.flags("run");
    const mountSpecs = flags.lists.get("mount") ?? [];
    const resolve = req.ctx.resolveFrom ?? ((ref: string) => ({ kind: "image", ref }) as const);
    const mounts = mountSpecs.map((spec) => parseMount(spec, flagLocation(req, `--mount=${spec}`), (name) => resolve(name, req.location), { deferVariables: true }));
    const network = flags.strings.get("network");
    const security = flags.strings.get("security");
    const { command, shell } = commandLine(req.node);
    if (command.length === 0 && req.node.heredocs.length === 0) req.fail("DOCKERFILE_ARGUMENTS", "RUN requires at least one argument");
    return {
      command,
      shell,
      files: req.node.heredocs.map(inlineFile),
      mountSpecs,
      mounts,
      network: network === undefined ? "default" : flagValue(flagSchemas.network, network, "network", "RUN", req.location),
      security: security === undefined ? "sandbox" : flagValue(flagSchemas.security, security, "security", "RUN", req.location),
    };
  },

  cmd(req) {
    noFlags(req);
    return commandLine(req.node);
  },

  entrypoint(req) {
    noFlags(req);
    return commandLine(req.node);
  },

  label(req) {
    noFlags(req);
    return { labels: pairs(req) };
  },

  maintainer(req) {
    noFlags(req);
    return { maintainer: exactlyOne(req) };
  },

  expose(req) {
    noFlags(req);
    const ports = words(req.node);
    if (ports.length === 0) req.fail("DOCKERFILE_ARGUMENTS", "EXPOSE requires at least one argument", "write EXPOSE 8080[/tcp]");
    for (const port of ports) if (!hasVariable(port)) checkPort(port, req.location);
    return { ports };
  },

  env(req) {
    noFlags(req);
    return { env: pairs(req) };
  },

  add(req) {
    const flags = req.flags("add");
    const checksum = flags.strings.get("checksum");
    if (checksum !== undefined && !hasVariable(checksum)) flagValue(flagSchemas.checksum, checksum, "checksum", "ADD", req.location);
    return {
      ...copyLike(req, flags),
      keepGitDir: flags.bools.get("keep-git-dir") ?? false,
      checksum,
      unpack: flags.bools.get("unpack"),
    };
  },

  copy(req) {
    const flags = req.flags("copy");
    const fromText = flags.strings.get("from");
    let from: SourceRef | undefined;
    if (fromText !== undefined) {
      flagValue(flagSchemas.stageRef, fromText, "from", "COPY", req.location, "define an alias stage (FROM $IMAGE AS src) and use --from=src");
      from = (req.ctx.resolveFrom ?? ((ref: string) => ({ kind: "image", ref }) as const))(fromText, flagLocation(req, flags.texts.get("from") as string));
    }
    return { ...copyLike(req, flags), from };
  },

  volume(req) {
    noFlags(req);
    const volumes = words(req.node).map((v) => v.trim());
    if (volumes.length === 0) req.fail("DOCKERFILE_ARGUMENTS", "VOLUME requires at least one argument");
    if (volumes.some((v) => v === "")) req.fail("DOCKERFILE_ARGUMENTS", "VOLUME specified can not be an empty string");
    return { volumes };
  },

  user(req) {
    noFlags(req);
    return { user: exactlyOne(req) };
  },

  workdir(req) {
    noFlags(req);
    return { path: exactlyOne(req) };
  },

  arg(req) {
    noFlags(req);
    if (req.node.args.length === 0) req.fail("DOCKERFILE_ARGUMENTS", "ARG requires at least one argument", "write ARG NAME[=default]");
    const args = req.node.args.map((word) => {
      const eq = word.indexOf("=");
      const name = eq < 0 ? word : word.slice(0, eq);
      if (name === "") req.fail("DOCKERFILE_ARGUMENTS", "ARG names can not be blank");
      return { name, default: eq < 0 ? undefined : word.slice(eq + 1) };
    });
    return { args, resolved: [] };
  },

  onbuild(req) {
    noFlags(req);
    const inner = req.node.next;
    if (inner === undefined) throw errorAt(req.location, "DOCKERFILE_ARGUMENTS", "ONBUILD requires at least one argument");
    const trigger = inner.keyword.toUpperCase();
    if (trigger === "ONBUILD") req.fail("DOCKERFILE_ONBUILD_TRIGGER", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (trigger === "FROM" || trigger === "MAINTAINER") req.fail("DOCKERFILE_ONBUILD_TRIGGER", `${trigger} isn't allowed as an ONBUILD trigger`);
    let expression = req.node.original.replace(/^\s*ONBUILD\s*/i, "");
    for (const h of req.node.heredocs.length ? req.node.heredocs : inner.heredocs) expression += `\n${h.content}${h.name}`;
    // The trigger runs in a child build: its --from names that build's stages, not ours.
    return { expression, trigger: parseInstruction(inner, { ...req.ctx, resolveFrom: undefined }) };
  },

  stopsignal(req) {
    noFlags(req);
    const signal = exactlyOne(req);
    if (!hasVariable(signal)) checkSignal(signal, req.location);
    return { signal };
  },

  healthcheck(req) {
    const [first, ...rest] = req.node.args;
    if (first === undefined) req.fail("DOCKERFILE_ARGUMENTS", "HEALTHCHECK requires at least one argument", "write HEALTHCHECK CMD <command> or HEALTHCHECK NONE");
    const type = first.toUpperCase();
    const result: Fields<"healthcheck"> = { test: [type], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
    if (type === "NONE") {
      req.flags("healthcheck", {});
      if (rest.length !== 0) req.fail("DOCKERFILE_HEALTHCHECK", "HEALTHCHECK NONE takes no arguments");
      return result;
    }
    const flags = req.flags("healthcheck");
    if (type !== "CMD") req.fail("DOCKERFILE_HEALTHCHECK", `Unknown type "${first}" in HEALTHCHECK (try CMD)`, "write HEALTHCHECK [options] CMD <command>");
    if (rest.length === 0 || (rest.length === 1 && rest[0]?.trim() === "")) req.fail("DOCKERFILE_HEALTHCHECK", "Missing command after HEALTHCHECK CMD");
    result.test = req.node.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
    const duration = (name: string, field: "interval" | "timeout" | "startPeriod" | "startInterval") => {
      const value = flags.strings.get(name);
      if (value !== undefined) result[field] = flagValue(flagSchemas.duration, value, name, "HEALTHCHECK", flagLocation(req, flags.texts.get(name) as string));
    };
    duration("interval", "interval");
    duration("timeout", "timeout");
    duration("start-period", "startPeriod");
    duration("start-interval", "startInterval");
    const retries = flags.strings.get("retries");
    if (retries !== undefined) result.retries = flagValue(flagSchemas.retries, retries, "retries", "HEALTHCHECK", flagLocation(req, flags.texts.get("retries") as string));
    return result;
  },

  shell(req) {
    noFlags(req);
    if (req.node.args.length === 0) req.fail("DOCKERFILE_ARGUMENTS", "SHELL requires at least one argument");
    if (!req.node.json) req.fail("DOCKERFILE_NOT_JSON", "SHELL requires the arguments to be in JSON form", `write SHELL ["/bin/sh", "-c"]`);
    return { shell: [...req.node.args] };
  },
};

function copyLike(req: Request, flags: ParsedFlags): Omit<Fields<"copy">, "from"> {
  const args = words(req.node);
  if (args.length < 2) {
    req.fail(
      "DOCKERFILE_ARGUMENTS",
      `${req.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
      `write ${req.keyword} <src>... <dest>`,
    );
  }
  const dest = args[args.length - 1] as string;
  if (!req.node.json && HEREDOC_WORD.test(dest)) req.fail("DOCKERFILE_ARGUMENTS", `${req.keyword} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const files: InlineFile[] = [];
  for (const src of args.slice(0, -1)) {
    const heredoc = req.node.json ? null : HEREDOC_WORD.exec(src);
    const body = heredoc ? req.node.heredocs.find((h) => h.name === heredoc[3]) : undefined;
    if (body) files.push(inlineFile(body));
    else sources.push(src);
  }
  const chown = flags.strings.get("chown");
  const chmod = flags.strings.get("chmod");
  const at = (name: string) => flagLocation(req, flags.texts.get(name) as string);
  if (chown !== undefined && !hasVariable(chown)) flagValue(flagSchemas.chown, chown, "chown", req.keyword, at("chown"));
  if (chmod !== undefined && !hasVariable(chmod)) flagValue(flagSchemas.chmod, chmod, "chmod", req.keyword, at("chmod"));
  return {
    sources,
    files,
    dest,
    chown,
    chmod,
    link: flags.bools.get("link") ?? false,
    parents: flags.bools.get("parents") ?? false,
    exclude: flags.lists.get("exclude") ?? [],
  };
}

/** `port[-port][/tcp|udp|sctp]`, as Docker's nat.ParsePortSpecs accepts for EXPOSE. */
export function checkPort(port: string, location: SourceLocation): void {
  const m = /^(\d+)(?:-(\d+))?(?:\/([a-zA-Z]+))?$/.exec(port);
  const low = Number(m?.[1]);
  const high = m?.[2] === undefined ? low : Number(m[2]);
  const proto = m?.[3]?.toLowerCase();
  if (!m || low > 65535 || high > 65535 || high < low || (proto !== undefined && !["tcp", "udp", "sctp"].includes(proto))) {
    throw errorAt(locate(location, port), "DOCKERFILE_BAD_PORT", `EXPOSE: invalid port '${port}'`, "write a port or a range with an optional protocol: 80, 8000-8010, 53/udp");
  }
}

const SIGNALS =
  "HUP INT QUIT ILL TRAP ABRT IOT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO POLL PWR SYS".split(" ");

/** A signal name (`SIGTERM`, `TERM`, `RTMIN+3`) or number, as Docker's signal.ParseSignal accepts. */
export function checkSignal(signal: string, location: SourceLocation): void {
  const name = signal.toUpperCase().replace(/^SIG/, "");
  const number = /^\d+$/.test(signal) ? Number(signal) : undefined;
  const ok = number !== undefined ? number >= 1 && number <= 64 : SIGNALS.includes(name) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(name);
  if (!ok) throw errorAt(location, "DOCKERFILE_BAD_SIGNAL", `STOPSIGNAL: invalid signal: ${signal}`, "write a name such as SIGTERM or a number");
}

const KEYWORDS = Object.keys(parsers).map((k) => k.toUpperCase());

/** One syntax node as a typed instruction; throws DockerfileError for anything Docker would reject. */
export function parseInstruction(node: DockerfileNode, ctx: ParseContext = {}): Instruction {
  const location = nodeLocation(node, ctx);
  const keyword = node.keyword.toUpperCase();
  const kind = keyword.toLowerCase() as InstructionKind;
  const parse = Object.prototype.hasOwnProperty.call(parsers, kind) ? parsers[kind] : undefined;
  if (parse === undefined) {
    throw errorAt(location, "DOCKERFILE_UNKNOWN_INSTRUCTION", `unknown instruction: ${keyword}`, didYouMean(keyword, KEYWORDS) ?? `instructions are ${KEYWORDS.join(", ")}`);
  }
  const req: Request = {
    node,
    location,
    keyword,
    ctx,
    flags: (flagKind, spec) => parseFlags(node.flags, flagKind, location, spec, (text) => flagLocation(req, text)),
    fail: (code, message, hint) => {
      throw errorAt(location, code, message, hint);
    },
  };
  const fields = (parse as (r: Request) => object)(req);
  return { kind, location, node, escape: ctx.escape ?? "\\", expanded: false, argsInScope: [], ...fields } as unknown as Instruction;
}
