/**
 * `RUN --mount=…` specs, as BuildKit's `commands_runmount.go`: a CSV list of `key=value` fields (plus
 * bare `ro`, `rw`, `readonly`, `required`), checked per mount type with zod.
 */
import { z } from "zod";
import type { SourceLocation } from "../errors.js";
import { errorAt, locate } from "./errors.js";
import { didYouMean } from "./suggest.js";
import type { Mount, SourceRef } from "./types.js";

/** One CSV record as Go's encoding/csv reads it: `"…"` quotes a field, `""` is a quote inside one. */
export function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error(`extraneous or missing " in quoted-field`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ",") throw new Error(`extraneous or missing " in quoted-field`);
    } else {
      while (i < text.length && text[i] !== ",") {
        if (text[i] === '"') throw new Error(`bare " in non-quoted-field`);
        field += text[i++];
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

const KEY_ALIASES: Record<string, string> = {
  src: "source",
  dst: "target",
  destination: "target",
  ro: "readonly",
  rw: "readwrite",
};
const ALL_KEYS = ["type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro", "readwrite", "rw", "id", "sharing", "required", "mode", "uid", "gid", "size", "env"];

const boolText = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "t", "f"]))
  .transform((s) => s === "true" || s === "1" || s === "t");
const octal = z
  .string()
  .regex(/^[0-7]+$/, "expected an octal mode such as 0755")
  .transform((s) => parseInt(s, 8))
  .refine((n) => n <= 0o7777, "mode is too large");
const id = z
  .string()
  .regex(/^\d+$/, "expected a number")
  .transform(Number)
  .refine((n) => n <= 2 ** 32 - 1, "is too large");
const size = z.string().transform((s, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(s);
  if (!m) {
    ctx.addIssue({ code: "custom", message: "expected a size such as 64m or 1g" });
    return 0;
  }
  const power = "bkmgtp".indexOf((m[2] || "b").toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
});
const fileInfo = { mode: octal.optional(), uid: id.optional(), gid: id.optional() };
const text = z.string();

// readonly/readwrite are read before the schemas (both set one flag); the schemas hold every other key.
const mountSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bind"), target: text.optional(), source: text.optional(), from: text.optional() }),
  z.strictObject({
    type: z.literal("cache"),
    target: text.optional(),
    source: text.optional(),
    from: text.optional(),
    id: text.optional(),
    sharing: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(["shared", "private", "locked"], { message: "expected shared, private or locked" }))
      .optional(),
    ...fileInfo,
  }),
  z.strictObject({ type: z.literal("tmpfs"), target: text.optional(), size: size.optional() }),
  z.strictObject({ type: z.literal("secret"), target: text.optional(), id: text.optional(), source: text.optional(), env: text.optional(), required: boolText.optional(), ...fileInfo }),
  z.strictObject({ type: z.literal("ssh"), target: text.optional(), id: text.optional(), required: boolText.optional(), ...fileInfo }),
]);

const TYPES = ["bind", "cache", "tmpfs", "secret", "ssh"];

export interface MountParseOptions {
  /** Parse time: values holding `$` are checked only after expansion. */
  deferVariables?: boolean;
  /** Expansion time: each value (except `from`) expanded; `complete` false leaves it unchecked. */
  expand?: (value: string) => { value: string; complete: boolean };
}

/** One `--mount` value as a typed Mount; `resolveFrom` turns `from=` into a stage or an image. */
export function parseMount(spec: string, location: SourceLocation, resolveFrom: (name: string) => SourceRef, options: MountParseOptions = {}): Mount {
  const at = locate(location, spec);
  const fail = (message: string, hint?: string) => errorAt(at, "DOCKERFILE_BAD_MOUNT", `RUN --mount=${spec}: ${message}`, hint);
  let fields: string[];
  try {
    fields = splitCsv(spec);
  } catch (err) {
    throw fail(`failed to parse csv mounts: ${(err as Error).message}`);
  }
  const record: Record<string, string> = {};
  const unchecked = new Set<string>();
  let readonlyGiven: boolean | undefined;
  for (const field of fields) {
    const eq = field.indexOf("=");
    const rawKey = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const key = KEY_ALIASES[rawKey] ?? rawKey;
    let value = eq < 0 ? undefined : field.slice(eq + 1);
    if (value === undefined) {
      if (key === "readonly" || key === "readwrite" || key === "required") value = "true";
      else throw fail(`invalid field '${field}' must be a key=value pair`);
    }
    if (!ALL_KEYS.includes(rawKey)) throw fail(`unexpected key '${rawKey}' in '${field}'`, didYouMean(rawKey, ALL_KEYS));
    if (key === "from" && /\$./.test(value)) throw fail(`'from' doesn't support variable expansion`, "define an alias stage (FROM $IMAGE AS src) and use from=src");
    if (key !== "from" && options.expand) {
      const expanded = options.expand(value);
      value = expanded.value;
      if (!expanded.complete) unchecked.add(key);
    } else if (key !== "from" && options.deferVariables && value.includes("$")) unchecked.add(key);
    if (key === "readwrite") {
      const rw = boolText.safeParse(value);
      if (!rw.success) throw fail(`invalid value for ${rawKey}: ${value}`);
      readonlyGiven = !rw.data;
      continue;
    }
    if (key === "readonly") {
      const ro = boolText.safeParse(value);
      if (!ro.success) throw fail(`invalid value for ${rawKey}: ${value}`);
      readonlyGiven = ro.data;
      continue;
    }
    if (key === "type") value = value.toLowerCase();
    record[key] = value;
  }
  const type = record.type ?? "bind";
  if (!TYPES.includes(type)) {
    throw fail(`unsupported mount type '${type}'`, didYouMean(type, TYPES) ?? `types are ${TYPES.join(", ")}`);
  }
  const checked: Record<string, string> = { type };
  for (const [key, value] of Object.entries(record)) {
    // Values with variables are checked after expansion (expandInstruction parses the spec again).
    if (key === "type" || unchecked.has(key)) continue;
    checked[key] = value;
  }
  const parsed = mountSchema.safeParse(checked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === "unrecognized_keys") {
      const key = issue.keys[0] as string;
      throw fail(`unexpected key '${key}' for mount type '${type}'`, `keys for ${type} mounts: ${Object.keys(mountKeys(type)).join(", ")}`);
    }
    const key = String(issue?.path[0] ?? "");
    throw fail(`invalid value for ${key}: '${record[key] ?? ""}': ${issue?.message ?? "invalid"}`);
  }
  const m = parsed.data;
  const from = record.from === undefined ? undefined : resolveFrom(record.from);
  const target = record.target;
  const readonly = readonlyGiven ?? !(type === "cache" || type === "tmpfs");
  if ((type === "bind" || type === "cache" || type === "tmpfs") && (target === undefined || target === "")) {
    throw fail(`a ${type} mount needs a target`, "add target=/path");
  }
  switch (m.type) {
    case "bind":
      return { type: "bind", target: target as string, source: record.source, from, readonly };
    case "cache":
      return {
        type: "cache",
        target: target as string,
        id: record.id,
        sharing: m.sharing ?? "shared",
        from,
        source: record.source,
        readonly,
        mode: m.mode,
        uid: m.uid,
        gid: m.gid,
      };
    case "tmpfs":
      return { type: "tmpfs", target: target as string, size: m.size };
    case "secret":
      // `source` is the older spelling of `id` for secrets.
      if (record.source !== undefined && record.id !== undefined) throw fail("both source and id can't be set", "keep id=");
      if (record.id === undefined && record.source === undefined && target === undefined && record.env === undefined) {
        throw fail("a secret mount needs an id, a target or an env", "add id=<secret id>");
      }
      return { type: "secret", id: record.id ?? record.source, target, env: record.env, required: m.required ?? false, mode: m.mode, uid: m.uid, gid: m.gid };
    case "ssh":
      return { type: "ssh", id: record.id, target, required: m.required ?? false, mode: m.mode, uid: m.uid, gid: m.gid };
  }
}

function mountKeys(type: string): Record<string, unknown> {
  const option = mountSchema.options.find((o) => o.shape.type.value === type);
  return option ? { ...option.shape, ...(type === "tmpfs" ? {} : { readonly: true, readwrite: true }) } : {};
}
