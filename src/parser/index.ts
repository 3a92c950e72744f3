export { parseDockerfile } from "./parse.js";
export { DockerfileError, type DockerfilePosition } from "./errors.js";
export type { Directive, Directives, DockerfileNode, Heredoc, KeyValue, ParseResult, ParseWarning, Position } from "./ast.js";
