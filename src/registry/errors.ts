import { BuildImageError } from "../errors.js";

/** Stable codes for everything the registry client raises. Programs branch on these, never on messages. */
export type RegistryErrorCode =
  | "REGISTRY_BAD_REFERENCE"
  | "REGISTRY_UNAUTHORIZED"
  | "REGISTRY_DENIED"
  | "REGISTRY_NOT_FOUND"
  | "REGISTRY_UNREACHABLE"
  | "REGISTRY_TLS"
  | "REGISTRY_RATE_LIMITED"
  | "REGISTRY_DIGEST_MISMATCH"
  | "REGISTRY_PLATFORM_NOT_FOUND"
  | "REGISTRY_UNSUPPORTED_MEDIA_TYPE"
  | "REGISTRY_CREDENTIAL_HELPER"
  | "REGISTRY_PROTOCOL";

export interface RegistryErrorData {
  registry?: string | undefined;
  repository?: string | undefined;
  status?: number | undefined;
  /** A network failure that may go away when the same request is sent again. */
  retriable?: boolean | undefined;
}

/**
 * A registry failure. Carries where it happened (registry, repository, HTTP status) as data; never
 * credentials, tokens or request headers.
 */
export class RegistryError extends BuildImageError {
  readonly registry: string | undefined;
  readonly repository: string | undefined;
  readonly status: number | undefined;
  readonly retriable: boolean;

  constructor(code: RegistryErrorCode, message: string, options: { hint?: string; cause?: unknown } & RegistryErrorData = {}) {
    super(code, message, options);
    this.name = "RegistryError";
    this.registry = options.registry;
    this.repository = options.repository;
    this.status = options.status;
    this.retriable = options.retriable ?? false;
  }
}

export function isRegistryError(err: unknown, code?: RegistryErrorCode): err is RegistryError {
  const found = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof found === "string" && found.startsWith("REGISTRY_") && (code === undefined || found === code);
}
