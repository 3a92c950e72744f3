// Shared by the build tests: the library entry points, and a type guard for build errors.
import { BuildError } from "../../src/build/index.js";
export { build, runImage } from "../../src/build/index.js";

export function isBuildError(err: unknown): err is BuildError {
  return err instanceof BuildError;
}
