/** Helpers that place an instructions-layer error at an instruction (or at one of its flags). */
import type { SourceLocation } from "../errors.js";
import { DockerfileError } from "../parser/index.js";

export function errorAt(location: SourceLocation, code: string, message: string, hint?: string, cause?: unknown): DockerfileError {
  return new DockerfileError(code, message, { ...location, hint, cause });
}

/** `location` moved to where `needle` starts on its line, when the line contains it. */
export function locate(location: SourceLocation, needle: string): SourceLocation {
  const at = needle === "" ? -1 : (location.lineText?.indexOf(needle) ?? -1);
  return at < 0 ? location : { ...location, column: at + 1 };
}
