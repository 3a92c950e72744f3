export { openContentStore, type ContentStore, type BlobInfo, type WriteOptions } from "./content-store.js";
export { chainIdOf, childChainId, digestHex, isDigest, sha256Digest, type Digest } from "./digest.js";
export { StoreError } from "./store-errors.js";
