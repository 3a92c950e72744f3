/**
 * A syntax problem found inside one logical line, before anyone knows where that line sits in the
 * file. `parseDockerfile` turns it into a `DockerfileError` with a location, in one place.
 */
export class LineProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Offset into the logical line being parsed (the joined instruction text). */
    readonly offset: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "LineProblem";
  }
}
