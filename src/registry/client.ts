import type { Readable } from "node:stream";
import { withAuth } from "./auth.js";
import { combineSignals, expect, type ClientContext } from "./context.js";
import { resolveCredentials, storeCredentials, eraseCredentials, type Credentials, type CredentialSources } from "./credentials.js";
import { discard } from "./dispatch.js";
import type { RegistryEvent } from "./events.js";
import type { Platform } from "./platform.js";
import { fetchBlob, getManifest, getRawManifest, pullImage, type FetchBlobOptions, type Manifest, type PulledImage, type PulledManifest, type PullImageOptions } from "./pull.js";
import { hasBlob, pushBlob, pushImage, putManifest, type BlobPushResult, type BlobSource, type PushImageOptions, type PushImageResult } from "./push.js";
import { makeReference, parseReference, type ImageReference } from "./reference.js";
import { withRedirects, withRetry, type RetryOptions } from "./retry.js";
import { createTransport } from "./transport.js";

export interface RegistryClientOptions extends CredentialSources {
  /** Registries reached over plain http or unverified TLS (`--insecure-registry`). localhost and 127.0.0.0/8 may use http anyway. */
  insecureRegistries?: string[];
  /** PEM file with CA certificates to trust beside the system's (`--ca-file`); `SSL_CERT_FILE` in env too. */
  caFile?: string;
  /** Per-registry CAs and client certificates as Docker's `/etc/docker/certs.d/<host:port>/{*.crt,*.cert,*.key}` (the default). */
  certsDir?: string;
  onEvent?: (event: RegistryEvent) => void;
  /** Cancels everything the client does. */
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Blobs up to this size are uploaded in one PUT, larger ones in PATCH chunks of it. Default 64 MiB. */
  chunkSize?: number;
}

type Ref = ImageReference | string;

export interface RegistryClient {
  /** The image manifest for a platform (default: the host); an index is resolved. */
  getManifest(ref: Ref, options?: { platform?: Platform; signal?: AbortSignal }): Promise<PulledManifest>;
  /** What the reference names, index or manifest, unresolved. */
  getRawManifest(ref: Ref, options?: { signal?: AbortSignal }): Promise<Manifest>;
  /** The blob's bytes, verified against `digest` while they stream (see pull.ts). */
  fetchBlob(ref: Ref, digest: string, options?: FetchBlobOptions): Readable;
  /** The manifest for a platform, then config and layers in parallel through `options.store`. */
  pullImage(ref: Ref, options: PullImageOptions): Promise<PulledImage>;
  hasBlob(ref: Ref, digest: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  pushBlob(ref: Ref, blob: BlobSource & { mountFrom?: string[] }, options?: { signal?: AbortSignal }): Promise<BlobPushResult>;
  putManifest(ref: Ref, bytes: Buffer, mediaType: string, options?: { signal?: AbortSignal }): Promise<string>;
  pushImage(ref: Ref, options: PushImageOptions): Promise<PushImageResult>;
  /** GET /v2/: resolves when the registry answers and accepts the client's credentials. */
  ping(registry: string, options?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

const toRef = (ref: Ref): ImageReference => (typeof ref === "string" ? parseReference(ref) : ref);

/**
 * A client for OCI distribution registries. Requests go through one dispatch, composed of
 * retry(auth(redirects(transport))); token requests use retry(transport).
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const transport = createTransport(options);
  const emit = (e: RegistryEvent): void => options.onEvent?.(e);
  const retry = options.retry ?? {};
  const credentialCache = new Map<string, Promise<Credentials | undefined>>();
  const credentialsFor = (registry: string): Promise<Credentials | undefined> => {
    let found = credentialCache.get(registry);
    if (!found) {
      found = resolveCredentials(registry, options);
      credentialCache.set(registry, found);
    }
    return found;
  };
  const dispatch = withRetry(
    withAuth(withRedirects(transport.dispatch), { credentialsFor, tokenDispatch: withRetry(transport.dispatch, retry, emit), onEvent: emit }),
    retry,
    emit,
  );
  const ctx: ClientContext = {
    dispatch,
    emit,
    hasCredentials: async (registry) => (await credentialsFor(registry)) !== undefined,
    retry,
    chunkSize: options.chunkSize ?? 64 * 1024 * 1024,
    signal: options.signal,
  };

  return {
    getManifest: (ref, o = {}) => getManifest(ctx, toRef(ref), o),
    getRawManifest: (ref, o = {}) => getRawManifest(ctx, toRef(ref), o.signal),
    fetchBlob: (ref, digest, o = {}) => fetchBlob(ctx, toRef(ref), digest, o),
    pullImage: (ref, o) => pullImage(ctx, toRef(ref), o),
    hasBlob: (ref, digest, o = {}) => hasBlob(ctx, toRef(ref), digest, combineSignals(ctx.signal, o.signal)),
    pushBlob: (ref, blob, o = {}) => pushBlob(ctx, toRef(ref), blob, { mountFrom: blob.mountFrom, signal: o.signal }),
    putManifest: (ref, bytes, mediaType, o = {}) => putManifest(ctx, toRef(ref), bytes, mediaType, combineSignals(ctx.signal, o.signal)),
    pushImage: (ref, o) => pushImage(ctx, toRef(ref), o),
    async ping(registry, o = {}) {
      const res = await expect(ctx, makeReference(registry, ""), "API version check", [200], { method: "GET", path: "/v2/", signal: o.signal });
      discard(res);
    },
    close: () => transport.close(),
  };
}

export interface LoginOptions extends Omit<CredentialSources, "credentials"> {
  insecureRegistries?: string[];
  caFile?: string;
  certsDir?: string;
  signal?: AbortSignal;
}

/** Checks the credentials against the registry, then stores them as `docker login` does. Returns the file written. */
export async function login(registry: string, credentials: Credentials, options: LoginOptions = {}): Promise<string> {
  const client = createRegistryClient({ ...options, credentials: { [registry]: credentials }, retry: { retries: 1 } });
  try {
    await client.ping(registry, { signal: options.signal });
  } finally {
    await client.close();
  }
  return storeCredentials(registry, credentials, options);
}

/** Forgets stored credentials for `registry`; false when there were none. */
export async function logout(registry: string, options: Omit<CredentialSources, "credentials"> = {}): Promise<boolean> {
  return eraseCredentials(registry, options);
}
