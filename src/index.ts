export { BuildImageError, isBuildImageError } from "./errors.js";
export { parseDockerfile, DockerfileError } from "./parser/index.js";
export type { Directive, Directives, DockerfileNode, DockerfilePosition, Heredoc, KeyValue, ParseResult, ParseWarning } from "./parser/index.js";
