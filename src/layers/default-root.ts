import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The store root when none is given: `BUILD_IMAGE_ROOT`, else `/var/lib/build-image` for root, else
 * `$XDG_DATA_HOME/build-image` (XDG's default `~/.local/share`). One function so every command agrees.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env.BUILD_IMAGE_ROOT) return env.BUILD_IMAGE_ROOT;
  if (uid === 0) return "/var/lib/build-image";
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(dataHome, "build-image");
}
