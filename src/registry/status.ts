import { discard, readBody, type RegistryResponse } from "./dispatch.js";
import { unauthorized } from "./auth.js";
import { RegistryError } from "./errors.js";

export interface Target {
  registry: string;
  repository: string;
  /** What was asked for, e.g. `manifest 1.0` or `blob sha256:…`. */
  what: string;
  hadCredentials: boolean;
}

// The registry's own explanation ({"errors":[{"code","message"}]}); it never echoes credentials.
async function registryDetail(res: RegistryResponse): Promise<{ code: string | undefined; text: string }> {
  try {
    const body = JSON.parse((await readBody(res, 64 * 1024)).toString("utf8")) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    return { code: first?.code, text: first ? `: ${[first.code, first.message].filter(Boolean).join(" ")}` : "" };
  } catch {
    return { code: undefined, text: "" };
  }
}

/** Turns an unexpected status into an error naming the registry, repository and what to try. */
export async function statusError(res: RegistryResponse, target: Target): Promise<RegistryError> {
  const where = { registry: target.registry, repository: target.repository, status: res.status };
  const name = `${target.registry}/${target.repository}`;
  if (res.status === 401) {
    discard(res);
    return unauthorized(target, target.hadCredentials);
  }
  const { code, text: detail } = await registryDetail(res);
  if (res.status === 400 && code === "DIGEST_INVALID") {
    return new RegistryError("REGISTRY_DIGEST_MISMATCH", `registry ${target.registry} found that the bytes sent for ${target.what} of ${name} do not match the digest${detail}`, {
      ...where,
      hint: "the local blob is damaged; remove it from the store and build again",
    });
  }
  switch (res.status) {
    case 403:
      return new RegistryError("REGISTRY_DENIED", `registry ${target.registry} denied access to ${target.what} of ${name}${detail}`, {
        ...where,
        hint: `check that the account may ${/push|upload/.test(target.what) ? "push to" : "pull from"} ${name}`,
      });
    case 404:
      return new RegistryError("REGISTRY_NOT_FOUND", `${target.what} not found in ${name}${detail}`, {
        ...where,
        hint: "check the repository name and the tag or digest; a private repository also answers 404 without credentials",
      });
    case 429:
      return new RegistryError("REGISTRY_RATE_LIMITED", `registry ${target.registry} is rate limiting requests for ${name}`, {
        ...where,
        hint: "wait and try again, or log in to get a higher limit",
      });
    default:
      return new RegistryError("REGISTRY_PROTOCOL", `registry ${target.registry} answered HTTP ${res.status} for ${target.what} of ${name}${detail}`, {
        ...where,
        retriable: res.status >= 500,
        hint: res.status >= 500 ? "the registry is failing; try again later" : "the registry does not support this request",
      });
  }
}
