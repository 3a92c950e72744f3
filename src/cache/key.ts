import { createHash } from "node:crypto";
import { EXPLAIN_ONLY_FIELDS, type CacheField, type CacheInputs } from "./cache.js";
import { CacheError } from "./errors.js";

/** Bumped when the encoding below changes, so old records stop matching instead of matching wrongly. */
export const KEY_FORMAT = "build-image cache key v1";

/**
 * The cache key of a step: `sha256:<hex>` over the format tag, the parent key and the inputs in a canonical
 * encoding (object keys sorted at every level, lists in their order, explanation-only fields left out).
 */
export function cacheKey(parent: string | null, inputs: CacheInputs): string {
  if (parent !== null && !isCacheKey(parent)) {
    throw new CacheError("CACHE_KEY_INVALID", `parent cache key "${String(parent).slice(0, 80)}" is not a sha256 digest`, {
      hint: "pass the key cacheKey() returned for the previous step, or null for FROM",
    });
  }
  const fields: Record<string, CacheField> = {};
  for (const name of Object.keys(inputs.fields).sort()) {
    if (!EXPLAIN_ONLY_FIELDS.has(name)) fields[name] = canonicalField(inputs.fields[name]!);
  }
  const text = `${KEY_FORMAT}\n${JSON.stringify({ parent, kind: inputs.kind, fields })}`;
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

export function isCacheKey(value: unknown): value is string {
  return typeof value === "string" && /^sha256:[0-9a-f]{64}$/.test(value);
}

/** True when two field values encode the same (record key order does not matter). */
export function sameField(a: CacheField | undefined, b: CacheField | undefined): boolean {
  return JSON.stringify(a === undefined ? null : canonicalField(a)) === JSON.stringify(b === undefined ? null : canonicalField(b));
}

function canonicalField(value: CacheField): CacheField {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const out: Record<string, string> = {};
  for (const name of Object.keys(value).sort()) out[name] = value[name]!;
  return out;
}
