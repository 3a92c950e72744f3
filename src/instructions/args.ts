/**
 * The build args Docker predefines: the platform args (TARGETPLATFORM, BUILDPLATFORM, … set for every
 * build, usable in FROM lines and in a stage once declared with a bare `ARG NAME`) and the proxy args
 * (usable with --build-arg without an ARG, given to RUN but never persisted in the image).
 */
import { BuildImageError, type SourceLocation } from "../errors.js";
import { errorAt } from "./errors.js";
import type { Platform } from "./types.js";

export const PROXY_ARGS: readonly string[] = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

export const PLATFORM_ARGS: readonly string[] = ["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"];

/** Build args the build engine itself reads; passing them is never "unused". */
export function isBuiltinArg(name: string): boolean {
  return PROXY_ARGS.includes(name) || PLATFORM_ARGS.includes(name) || name === "SOURCE_DATE_EPOCH" || name.startsWith("BUILDKIT_");
}

const ARCH_ALIASES: Record<string, Platform> = {
  x86_64: { os: "", architecture: "amd64" },
  x86: { os: "", architecture: "386" },
  i386: { os: "", architecture: "386" },
  aarch64: { os: "", architecture: "arm64" },
  armhf: { os: "", architecture: "arm", variant: "v7" },
  armel: { os: "", architecture: "arm", variant: "v6" },
};

/** `os/arch[/variant]` normalized as containerd's platforms.Normalize does (x86_64 → amd64, arm → arm/v7…). */
export function parsePlatform(text: string, location?: SourceLocation): Platform {
  const parts = text.trim().toLowerCase().split("/");
  const ok = parts.length >= 2 && parts.length <= 3 && parts.every((p) => /^[a-z0-9_.-]+$/.test(p));
  if (!ok) {
    const message = `invalid platform '${text}'`;
    const hint = "write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8";
    if (location) throw errorAt(location, "DOCKERFILE_BAD_PLATFORM", message, hint);
    throw new BuildImageError("DOCKERFILE_BAD_PLATFORM", message, { hint });
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  const alias = ARCH_ALIASES[arch];
  const platform: Platform = { os, architecture: alias?.architecture ?? arch };
  const v = variant ?? alias?.variant;
  if (platform.architecture === "arm") platform.variant = v ?? "v7";
  else if (platform.architecture === "arm64") {
    if (v !== undefined && v !== "v8") platform.variant = v;
  } else if (v !== undefined) platform.variant = v;
  return platform;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform this process runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const arches: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle" };
  const architecture = arches[process.arch] ?? process.arch;
  const platform: Platform = { os: process.platform === "win32" ? "windows" : process.platform, architecture };
  if (architecture === "arm") {
    const version = (process.config.variables as { arm_version?: string }).arm_version;
    platform.variant = `v${version ?? "7"}`;
  }
  return platform;
}

/** The eight platform args for a build targeting `target` on `build`. */
export function platformArgs(target: Platform, build: Platform): Record<string, string> {
  return {
    TARGETPLATFORM: formatPlatform(target),
    TARGETOS: target.os,
    TARGETARCH: target.architecture,
    TARGETVARIANT: target.variant ?? "",
    BUILDPLATFORM: formatPlatform(build),
    BUILDOS: build.os,
    BUILDARCH: build.architecture,
    BUILDVARIANT: build.variant ?? "",
  };
}
