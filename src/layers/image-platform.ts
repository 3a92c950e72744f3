import { ImageError } from "./image-errors.js";
import type { Platform } from "./manifest.js";

/** Node's `process.arch` in OCI/Go terms. */
const goArch: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle" };

/** The platform this process runs on, as an image index names it: `linux/amd64`. */
export function hostPlatform(): Platform {
  return { os: process.platform === "win32" ? "windows" : process.platform, architecture: goArch[process.arch] ?? process.arch };
}

/** The platform an image config declares. */
export function platformOfConfig(config: { architecture: string; os: string; variant?: string | undefined }): Platform {
  const { architecture, os, variant } = config;
  return variant === undefined ? { architecture, os } : { architecture, os, variant };
}

/** Parses `linux/arm64/v8` (os/arch[/variant]); throws IMAGE_PLATFORM_INVALID. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split("/");
  if (!os || !architecture || variant === "" || extra !== undefined) {
    throw new ImageError("IMAGE_PLATFORM_INVALID", `'${text}' is not a platform`, { hint: "use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8" });
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/** Whether an index entry's platform serves the wanted one (a missing variant matches any). */
export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  return wanted.variant === undefined || candidate.variant === undefined || candidate.variant === wanted.variant;
}
