import { createHash } from "node:crypto";
import type { Dispatch, RegistryRequest, RegistryResponse } from "./dispatch.js";
import { RegistryError } from "./errors.js";
import type { RegistryEvent } from "./events.js";
import type { ImageReference } from "./reference.js";
import type { RetryOptions } from "./retry.js";
import { statusError } from "./status.js";

/** What pull.ts and push.ts share: the composed dispatch and the client's settings. */
export interface ClientContext {
  dispatch: Dispatch;
  emit: (e: RegistryEvent) => void;
  hasCredentials: (registry: string) => Promise<boolean>;
  retry: RetryOptions;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
  chunkSize: number;
  signal: AbortSignal | undefined;
}

export function combineSignals(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  return present.length <= 1 ? present[0] : AbortSignal.any(present);
}

export function pullScope(ref: ImageReference): string {
  return `repository:${ref.repository}:pull`;
}

export function pushScope(ref: ImageReference): string {
  return `repository:${ref.repository}:pull,push`;
}

/** Sends a request about `ref` and fails with a clear error unless the status is one of `ok`. */
export async function expect(
  ctx: ClientContext,
  ref: ImageReference,
  what: string,
  ok: number[],
  req: Omit<RegistryRequest, "registry" | "repository">,
): Promise<RegistryResponse> {
  const res = await ctx.dispatch({ ...req, registry: ref.registry, repository: ref.repository, signal: combineSignals(ctx.signal, req.signal) });
  if (ok.includes(res.status)) return res;
  throw await statusError(res, { registry: ref.registry, repository: ref.repository, what, hadCredentials: await ctx.hasCredentials(ref.registry) });
}

export function splitDigest(digest: string): { algorithm: string; hex: string } {
  const [algorithm, hex] = digest.split(":");
  if ((algorithm !== "sha256" && algorithm !== "sha512") || !hex) {
    throw new RegistryError("REGISTRY_DIGEST_MISMATCH", `unsupported digest "${digest}"`, { hint: "only sha256 and sha512 digests are supported" });
  }
  return { algorithm, hex };
}

export function digestOf(bytes: Buffer, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

export function digestMismatch(ref: ImageReference, what: string, expected: string, actual: string): RegistryError {
  return new RegistryError("REGISTRY_DIGEST_MISMATCH", `${what} from ${ref.registry}/${ref.repository} has digest ${actual}, expected ${expected}`, {
    registry: ref.registry,
    repository: ref.repository,
    hint: "the registry (or something between) served wrong content; nothing was kept. Try again, and report it to the registry's operator if it persists",
  });
}

export function sizeMismatch(ref: ImageReference, digest: string, expected: number, actual: string): RegistryError {
  return new RegistryError("REGISTRY_DIGEST_MISMATCH", `blob ${digest} from ${ref.registry}/${ref.repository} has ${actual} bytes, expected ${expected}`, {
    registry: ref.registry,
    repository: ref.repository,
    hint: "the registry (or something between) served wrong content; nothing was kept. Try again",
  });
}
