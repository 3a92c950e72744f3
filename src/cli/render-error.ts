import { isBuildImageError } from "../errors.js";
import { EXIT_FAILED, EXIT_USAGE } from "./command.js";

/**
 * The one place that decides how an error reaches the user and which exit code it gives:
 * user errors print code, location (with the line and a caret) and hint, without a stack;
 * anything else is a bug and prints its stack.
 */
export function renderError(err: unknown, stderr: NodeJS.WritableStream): number {
  if (!isBuildImageError(err)) {
    stderr.write(`build-image: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILED;
  }
  const where = err.location ? `${err.location.file}:${err.location.line}:${err.location.column}: ` : "";
  stderr.write(`error: ${where}${err.message} [${err.code}]\n`);
  if (err.location?.lineText !== undefined) {
    const gutter = `${err.location.line} | `;
    stderr.write(` ${gutter}${err.location.lineText}\n`);
    stderr.write(` ${" ".repeat(gutter.length)}${" ".repeat(Math.max(0, err.location.column - 1))}^\n`);
  }
  if (err.hint) stderr.write(`hint: ${err.hint}\n`);
  return err.code === "USAGE" ? EXIT_USAGE : EXIT_FAILED;
}
