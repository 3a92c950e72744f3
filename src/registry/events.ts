/** Progress of registry work, for `onEvent`. Never carries credentials, tokens or headers. */
export type RegistryEvent =
  | { type: "retry"; registry: string; method: string; attempt: number; delayMs: number; reason: string }
  | { type: "token"; registry: string; scopes: string[] }
  | { type: "blob"; action: "exists" | "mounted" | "pushed" | "pulled"; repository: string; digest: string; size: number | undefined }
  | { type: "blob-progress"; repository: string; digest: string; bytes: number; size: number | undefined }
  | { type: "manifest"; action: "pushed"; repository: string; digest: string; tag: string | undefined };
