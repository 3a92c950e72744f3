import { RegistryError } from "./errors.js";

/** An OCI platform: `linux/arm64`, `linux/arm/v7`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
}

export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
}

// process.arch → GOARCH, the vocabulary of image indexes.
const goArch: Record<string, string> = {
  x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x",
  riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle",
};

export function hostPlatform(): Platform {
  const architecture = goArch[process.arch] ?? process.arch;
  if (architecture !== "arm") return { os: "linux", architecture };
  const armVersion = (process.config.variables as { arm_version?: string }).arm_version ?? "7";
  return { os: "linux", architecture, variant: `v${armVersion}` };
}

/** `linux/arm64`, `linux/arm/v7` → a Platform. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...extra] = text.split("/");
  if (!os || !architecture || extra.length > 0) {
    throw new RegistryError("REGISTRY_PLATFORM_NOT_FOUND", `invalid platform "${text}"`, { hint: "write it as os/arch[/variant], e.g. linux/arm64" });
  }
  return { os, architecture: goArch[architecture] ?? architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

// arm64's only variant is v8, so an empty variant and v8 are the same (as containerd normalizes).
function normalVariant(p: Platform): string {
  return p.architecture === "arm64" && p.variant === "v8" ? "" : (p.variant ?? "");
}

/**
 * Picks the entry for `wanted` from an index, as containerd's platform matcher does: same os and
 * architecture; the exact variant first, then no variant, then (for arm) older variants the CPU also runs.
 */
export function selectPlatform(entries: IndexEntry[], wanted: Platform): IndexEntry | undefined {
  const variant = normalVariant(wanted);
  const candidates = entries.filter((e) => e.platform && e.platform.os === wanted.os && e.platform.architecture === wanted.architecture);
  const rank = (e: IndexEntry): number => {
    const v = normalVariant(e.platform!);
    if (v === variant) return 0;
    if (v === "") return 1;
    if (wanted.architecture === "arm" && /^v\d$/.test(v) && /^v\d$/.test(variant) && v < variant) return 2 + Number(variant[1]) - Number(v[1]);
    return -1;
  };
  return candidates.filter((e) => rank(e) >= 0).sort((a, b) => rank(a) - rank(b))[0];
}
