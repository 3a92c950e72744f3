import { createHash } from "node:crypto";
import { StoreError } from "./store-errors.js";

/** A content digest, always `sha256:<64 lowercase hex>`; validated before it names a path. */
export type Digest = string;

const digestPattern = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === "string" && digestPattern.test(value);
}

/** The hex part of a digest, after checking it: the only way a digest becomes part of a path. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) {
    throw new StoreError("DIGEST_INVALID", `"${String(digest).slice(0, 80)}" is not a sha256 digest`, {
      hint: 'A digest is "sha256:" followed by 64 lowercase hex digits.',
    });
  }
  return digest.slice(7);
}

export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/**
 * The OCI chain ID of a stack of layers, bottom first: ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function chainIdOf(diffIds: readonly string[]): Digest {
  if (diffIds.length === 0) throw new StoreError("DIGEST_INVALID", "a chain ID needs at least one diff ID");
  let chain = diffIds[0]!;
  digestHex(chain);
  for (const diffId of diffIds.slice(1)) {
    digestHex(diffId);
    chain = sha256Digest(`${chain} ${diffId}`);
  }
  return chain;
}

/** The chain ID of `diffId` stacked on `parent` (null: the bottom layer). */
export function childChainId(parent: string | null, diffId: string): Digest {
  return parent === null ? chainIdOf([diffId]) : chainIdOf([parent, diffId]);
}
