/**
 * The state a stage carries from step to step: the image config being built, the snapshot chain its
 * root filesystem is, the layers made so far, and the cache key of the last step.
 */
import type { ContainerConfig, HistoryEntry, ImageConfig } from "../layers/index.js";
import type { CacheLayer } from "../cache/index.js";

/** A layer of the image being built: its blob and its diff ID, as the cache records them. */
export type StageLayer = CacheLayer;

export interface StageState {
  /** What the progress output calls the stage: its name, or its index. */
  label: string;
  config: ImageConfig;
  /** The chain ID of the stage's root filesystem so far; null while it is empty (`FROM scratch`). */
  chainId: string | null;
  /** Every layer of the image, the base's first. */
  layers: StageLayer[];
  /** The key of the last step: the parent of the next one. */
  cacheKey: string;
  /** CMD was set in this stage (Docker's rule: ENTRYPOINT resets an inherited CMD, not one set here). */
  cmdSet: boolean;
}

export const DEFAULT_SHELL = ["/bin/sh", "-c"];
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function containerConfig(state: StageState): ContainerConfig {
  state.config.config ??= {};
  return state.config.config;
}

/** The image's ENV as a record (later entries win, as the runtime reads them). */
export function envRecord(config: ImageConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of config.config?.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

/** Sets one ENV variable, keeping the position of an existing one (as Docker does). */
export function setEnv(state: StageState, key: string, value: string): void {
  const config = containerConfig(state);
  const env = config.Env ?? [];
  const at = env.findIndex((e) => e.startsWith(`${key}=`));
  if (at >= 0) env[at] = `${key}=${value}`;
  else env.push(`${key}=${value}`);
  config.Env = env;
}

export function addHistory(state: StageState, entry: HistoryEntry): void {
  (state.config.history ??= []).push(entry);
}

/** A deep copy, so a stage built FROM another never changes its parent's state. */
export function cloneState(state: StageState, label: string): StageState {
  return { ...state, label, config: structuredClone(state.config), layers: [...state.layers], cmdSet: false };
}

/** The front end's platform in the shape the image format uses. */
export function imagePlatform(p: { os: string; architecture: string; variant?: string | undefined }): { os: string; architecture: string; variant?: string } {
  return p.variant ? { os: p.os, architecture: p.architecture, variant: p.variant } : { os: p.os, architecture: p.architecture };
}

export function scratchConfig(platform: { os: string; architecture: string; variant?: string }): ImageConfig {
  return {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: [`PATH=${DEFAULT_PATH}`] },
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
}
