import { CacheError } from "./errors.js";

/** Where `--cache-to` sends cache. */
export type CacheToSpec = { type: "registry"; ref: string; mode: "min" | "max" } | { type: "inline" };

/** Where `--cache-from` reads cache: a cache manifest or an image with inline cache (told apart on import). */
export interface CacheFromSpec {
  type: "registry";
  ref: string;
}

function fields(spec: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw invalid(spec, flag, "expected key=value pairs separated by commas");
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function invalid(spec: string, flag: string, why: string): CacheError {
  return new CacheError("CACHE_SPEC_INVALID", `--${flag} '${spec}': ${why}`, {
    hint: flag === "cache-to" ? "use type=registry,ref=REF[,mode=min|max] or type=inline" : "use type=registry,ref=REF, or an image reference",
  });
}

/** `type=registry,ref=REF[,mode=min|max]` (mode defaults to min, as buildx) or `type=inline`. */
export function parseCacheToSpec(spec: string): CacheToSpec {
  const kv = fields(spec, "cache-to");
  const type = kv.type ?? "registry";
  if (type === "inline") return { type: "inline" };
  if (type !== "registry") throw invalid(spec, "cache-to", `type '${type}' is not supported`);
  if (!kv.ref) throw invalid(spec, "cache-to", "ref=… is required");
  const mode = kv.mode ?? "min";
  if (mode !== "min" && mode !== "max") throw invalid(spec, "cache-to", `mode '${mode}' is not min or max`);
  return { type, ref: kv.ref, mode };
}

/** `type=registry,ref=REF`, or a bare image reference (as `docker build --cache-from IMAGE`). */
export function parseCacheFromSpec(spec: string): CacheFromSpec {
  if (!spec.includes("=")) return { type: "registry", ref: spec };
  const kv = fields(spec, "cache-from");
  const type = kv.type ?? "registry";
  if (type !== "registry") throw invalid(spec, "cache-from", `type '${type}' is not supported`);
  if (!kv.ref) throw invalid(spec, "cache-from", "ref=… is required");
  return { type, ref: kv.ref };
}
