export { DockerfileError, type DockerfilePosition } from "./errors.js";
export type { Directive, Directives, DockerfileNode, Heredoc, KeyValue, ParseResult, ParseWarning } from "./ast.js";
