/**
 * Instruction flags (`--name=value`), as BuildKit's `bflag.go`: each instruction declares its flags,
 * then one place rejects unknown, duplicate and valueless flags and flags that belong to another
 * instruction. Values are then checked with zod schemas (`flagValue`).
 */
import { z } from "zod";
import type { SourceLocation } from "../errors.js";
import type { DockerfileError } from "../parser/index.js";
import { errorAt, locate } from "./errors.js";
import { didYouMean } from "./suggest.js";
import type { InstructionKind } from "./types.js";

type FlagType = "string" | "bool" | "strings";

/** Every flag each instruction accepts. */
export const FLAG_SPECS: Partial<Record<InstructionKind, Record<string, FlagType>>> = {
  from: { platform: "string" },
  run: { mount: "strings", network: "string", security: "string" },
  copy: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "strings" },
  add: { chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", exclude: "strings", unpack: "bool" },
  healthcheck: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

export interface ParsedFlags {
  strings: Map<string, string>;
  bools: Map<string, boolean>;
  lists: Map<string, string[]>;
  /** The raw text of each flag by name, to place a later value error on it. */
  texts: Map<string, string>;
}

/** Reads the raw flags of one instruction against the flags `kind` declares (`spec`, default its own). */
export function parseFlags(
  raw: string[],
  kind: InstructionKind,
  location: SourceLocation,
  spec = FLAG_SPECS[kind] ?? {},
  locateFlag: (text: string) => SourceLocation = (text) => locate(location, text),
): ParsedFlags {
  const result: ParsedFlags = { strings: new Map(), bools: new Map(), lists: new Map(), texts: new Map() };
  const keyword = kind.toUpperCase();
  for (const text of raw) {
    const at = locateFlag(text);
    if (!text.startsWith("--") || text.length === 2) throw errorAt(at, "DOCKERFILE_BAD_FLAG", `${keyword}: '${text}' is not a flag (flags start with --)`);
    const eq = text.indexOf("=");
    const name = (eq < 0 ? text.slice(2) : text.slice(2, eq)).toLowerCase();
    const value = eq < 0 ? undefined : text.slice(eq + 1);
    const type = spec[name];
    if (type === undefined) throw unknownFlag(name, kind, at, spec);
    if (type !== "strings" && result.texts.has(name)) {
      throw errorAt(at, "DOCKERFILE_DUPLICATE_FLAG", `${keyword}: duplicate flag specified: --${name}`, "give the flag once");
    }
    result.texts.set(name, text);
    if (type === "bool") {
      const lower = value?.toLowerCase();
      if (lower !== undefined && lower !== "true" && lower !== "false") {
        throw errorAt(at, "DOCKERFILE_FLAG_VALUE", `${keyword}: expecting boolean value for flag --${name}, not: ${value}`, `write --${name} or --${name}=false`);
      }
      result.bools.set(name, lower !== "false");
      continue;
    }
    if (value === undefined) throw errorAt(at, "DOCKERFILE_FLAG_VALUE", `${keyword}: missing a value on flag --${name}`, `write --${name}=<value>`);
    if (type === "strings") result.lists.set(name, [...(result.lists.get(name) ?? []), value]);
    else result.strings.set(name, value);
  }
  return result;
}

function unknownFlag(name: string, kind: InstructionKind, at: SourceLocation, spec: Record<string, FlagType>): DockerfileError {
  const keyword = kind.toUpperCase();
  const owners = Object.entries(FLAG_SPECS)
    .filter(([owner, flags]) => owner !== kind && flags !== undefined && name in flags)
    .map(([owner]) => owner.toUpperCase());
  if (owners.length > 0) {
    return errorAt(at, "DOCKERFILE_FLAG_NOT_ALLOWED", `--${name} is not a flag of ${keyword} (it belongs to ${owners.join(", ")})`, flagHint(spec));
  }
  return errorAt(at, "DOCKERFILE_UNKNOWN_FLAG", `${keyword}: unknown flag: --${name}`, didYouMean(name, Object.keys(spec), (s) => `--${s}`) ?? flagHint(spec));
}

function flagHint(spec: Record<string, FlagType>): string {
  const names = Object.keys(spec);
  return names.length === 0 ? "this instruction takes no flags" : `its flags are ${names.map((n) => `--${n}`).join(", ")}`;
}

/** A Go duration (`1m30s`, `500ms`, `1.5h`) in nanoseconds, or undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const match = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/u.exec(text);
  if (text === "0" || text === "+0" || text === "-0") return 0;
  if (!match) return undefined;
  let total = 0;
  for (const part of text.replace(/^[+-]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gu)) {
    total += Number(part[1]) * (units[part[2] as string] as number);
  }
  return Math.round(match[1] === "-" ? -total : total);
}

const MIN_DURATION_NS = 1e6; // Docker's container.MinimumDuration: 1ms

/** zod schemas for flag values, shared by parsing (literal values) and expansion (expanded values). */
export const flagSchemas = {
  network: z.enum(["default", "none", "host"]),
  security: z.enum(["sandbox", "insecure"]),
  chown: z.string().regex(/^[^:\s]+(:[^:\s]+)?$/, "expected user[:group]"),
  chmod: z
    .string()
    .regex(
      /^(0*[0-7]{1,4}|[ugoa]*[-+=]([rwxXst]*|[ugo])([-+=]([rwxXst]*|[ugo]))*(,[ugoa]*[-+=]([rwxXst]*|[ugo])([-+=]([rwxXst]*|[ugo]))*)*)$/,
      "expected an octal mode (755) or a symbolic one (u+x,g-w)",
    ),
  checksum: z.string().regex(/^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/, "expected a digest such as sha256:<64 hex digits>"),
  duration: z
    .string()
    .transform((s, ctx) => {
      const ns = parseDuration(s);
      if (ns === undefined) ctx.addIssue({ code: "custom", message: `not a duration (use 30s, 1m30s, 500ms)` });
      else if (ns !== 0 && ns < MIN_DURATION_NS) ctx.addIssue({ code: "custom", message: "cannot be less than 1ms" });
      return ns ?? 0;
    }),
  retries: z
    .string()
    .regex(/^[+-]?\d+$/, "expected a whole number")
    .transform(Number)
    .refine((n) => n >= 0, "cannot be negative")
    .refine((n) => n <= 2 ** 31 - 1, "is too large"),
  stageRef: z.string().min(1, "cannot be empty").refine((s) => !/\$./.test(s), "does not support variable expansion"),
} as const;

/** `value` checked against `schema`; a failure is a DOCKERFILE_FLAG_VALUE error placed on the flag. */
export function flagValue<T extends z.ZodType>(schema: T, value: string, name: string, keyword: string, location: SourceLocation, hint?: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues[0]?.message ?? "invalid value";
  const detail = message.startsWith("Invalid option") ? `expected one of ${optionsOf(schema)}` : message;
  throw errorAt(locate(location, `--${name}`), "DOCKERFILE_FLAG_VALUE", `${keyword}: invalid value for --${name}: '${value}': ${detail}`, hint);
}

function optionsOf(schema: z.ZodType): string {
  return schema instanceof z.ZodEnum ? (schema.options as string[]).join(", ") : "the documented values";
}
