export type { Cache, CacheField, CacheInputs, CacheLayer, CacheRecord, CacheResult, NewCacheRecord } from "./cache.js";
export { EXPLAIN_ONLY_FIELDS } from "./cache.js";
export { cacheKey, isCacheKey, KEY_FORMAT } from "./key.js";
export { openCache } from "./record-store.js";
export { CacheError } from "./errors.js";
export { acquireCacheMount, cacheMountDir, listCacheMounts, removeCacheMounts, safeMountId, type AcquireCacheMountOptions, type CacheMount, type CacheMountSharing, type StoredCacheMount } from "./mounts.js";
export { prune, type PruneOptions, type PruneResult } from "./prune.js";
export { du, type DiskUsage } from "./du.js";
export { exportCache, importCache, inlineCacheValue, CACHE_CONFIG_MEDIA_TYPE, INLINE_CACHE_FIELD, type ExportCacheOptions, type ExportCacheResult, type ExportedRecord, type ImportCacheOptions, type ImportCacheResult } from "./remote.js";
