import { posix } from "node:path";

/** Go's filepath.Clean for slash paths: "" → ".", no trailing slash, "." and ".." resolved lexically. */
export function goClean(path: string): string {
  if (path === "") return ".";
  const normalized = posix.normalize(path);
  return normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}
