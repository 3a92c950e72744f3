import type { Readable } from "node:stream";

/**
 * The one request primitive every registry operation goes through (as undici's `dispatch`). Auth,
 * retries and redirects are wrappers of the shape `Dispatch → Dispatch`, composed in client.ts.
 */
export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** `host[:port]` from the reference (`docker.io` for Docker Hub). */
  registry: string;
  /** `/v2/…`, or an absolute URL (upload `Location`s, redirects, token realms). */
  path: string;
  headers?: Record<string, string>;
  /** Opens the body; called again for each retry, so a stream body can be sent more than once. */
  body?: () => Buffer | Readable;
  /** The body can be opened only once (a slice of a stream): not retried, not re-sent after a 401. */
  once?: boolean;
  /** Token scopes the request needs, e.g. `repository:app:pull,push`. */
  scopes?: string[];
  /** For error messages only. */
  repository?: string;
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** The absolute URL that answered, to resolve relative `Location`s. */
  url: string;
}

export type Dispatch = (request: RegistryRequest) => Promise<RegistryResponse>;

export function header(res: RegistryResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads a response body that is known to be small (manifests, error documents, tokens). */
export async function readBody(res: RegistryResponse, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      res.body.destroy();
      throw new Error(`response body larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drops a body we do not need, so the connection goes back to the pool. */
export function discard(res: RegistryResponse): void {
  res.body.on("error", () => {});
  res.body.resume();
}
