/**
 * The typed instructions: one object per Dockerfile instruction, a union tagged on `kind`.
 *
 * Words are kept as written (unexpanded) by `parseInstruction`; `expandInstruction(instr, env)` returns
 * the same object with every word Docker expands replaced by its expansion. Flags are already
 * validated and typed; values that may contain variables (`--chown`, mount values, …) are validated
 * again after expansion.
 */
import type { SourceLocation } from "../errors.js";
import type { DockerfileNode } from "../parser/index.js";

/** An `os/arch[/variant]` platform as in the OCI image index. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** An ARG visible at some point of a stage, with the value it resolved to (undefined: declared, no value). */
export interface ResolvedArg {
  name: string;
  value: string | undefined;
  /** Where the value came from. */
  source: "build-arg" | "default" | "meta" | "platform" | "none";
  /**
   * True when the default uses a variable the Dockerfile does not define (`ARG DIR=$HOME/x` on an
   * image): `value` then still holds the reference, and the real value is the one
   * expandInstruction gives the ARG instruction at dispatch.
   */
  dynamic?: boolean;
  /** True when an ENV after this ARG set the same name: from there on the ENV's value wins. */
  shadowed?: boolean;
}

interface Base {
  /** Where the instruction starts (line/column of its keyword), with the line's text. */
  location: SourceLocation;
  /** The syntax node it was made from. */
  node: DockerfileNode;
  /** The Dockerfile's escape character, needed to expand this instruction's words. */
  escape: string;
  /** True once `expandInstruction` has replaced the words by their expansion. */
  expanded: boolean;
  /**
   * The ARGs in scope just before this instruction, values resolved with the build args (filled by
   * createBuildPlan; empty from parseInstruction). RUN gets them as environment variables; they
   * are not persisted in the image.
   */
  argsInScope: ResolvedArg[];
}

export interface KeyValuePair {
  key: string;
  value: string;
}

/** A file given inline with a heredoc (`COPY <<EOF /dst`, `RUN <<EOF`). */
export interface InlineFile {
  name: string;
  content: string;
  /** False for a quoted delimiter (`<<'EOF'`): the content is never expanded. */
  expand: boolean;
  /** `<<-`: leading tabs were stripped. */
  chomp: boolean;
}

/** What `COPY --from` / `RUN --mount=from=` names, resolved by createBuildPlan. */
export type SourceRef = { kind: "stage"; index: number; name: string } | { kind: "image"; ref: string };

export interface FromInstruction extends Base {
  kind: "from";
  /** The base as written (`$VAR`s are expanded by createBuildPlan with the meta ARGs). */
  image: string;
  /** `AS name`, lower-cased. */
  name: string | undefined;
  /** `--platform` as written. */
  platform: string | undefined;
}

export interface RunInstruction extends Base {
  kind: "run";
  /** Shell form: one element, the command line. Exec form: argv. Never expanded (the shell does it). */
  command: string[];
  /** True for the shell form: the solver prepends the SHELL (default `/bin/sh -c`). */
  shell: boolean;
  /** Heredocs: RUN's heredocs are never expanded by us; the shell expands unquoted ones. */
  files: InlineFile[];
  /** `--mount` values as written; expandInstruction re-parses them after expansion. */
  mountSpecs: string[];
  /** The mounts, typed (values expanded once `expanded` is true). */
  mounts: Mount[];
  network: "default" | "none" | "host";
  security: "sandbox" | "insecure";
}

export interface CmdInstruction extends Base {
  kind: "cmd";
  command: string[];
  shell: boolean;
}

export interface EntrypointInstruction extends Base {
  kind: "entrypoint";
  command: string[];
  shell: boolean;
}

export interface LabelInstruction extends Base {
  kind: "label";
  labels: KeyValuePair[];
}

export interface MaintainerInstruction extends Base {
  kind: "maintainer";
  maintainer: string;
}

export interface ExposeInstruction extends Base {
  kind: "expose";
  /** As written; after expansion each is `port[-port][/tcp|udp|sctp]`, one word may expand to several. */
  ports: string[];
}

export interface EnvInstruction extends Base {
  kind: "env";
  env: KeyValuePair[];
}

interface CopyLike extends Base {
  /** Paths, globs or (ADD) URLs, as written. */
  sources: string[];
  /** Heredoc sources (`COPY <<EOF /dst`). */
  files: InlineFile[];
  dest: string;
  /** `user[:group]`, names or ids. */
  chown: string | undefined;
  /** Octal (`755`) or symbolic (`u+x,g-w`). */
  chmod: string | undefined;
  link: boolean;
  /** `--parents` (COPY only; always false for ADD): keep the source's parent directories. */
  parents: boolean;
  exclude: string[];
}

export interface CopyInstruction extends CopyLike {
  kind: "copy";
  /** `--from`: a stage (by name or index) or an image; never expanded, as in Docker. */
  from: SourceRef | undefined;
}

export interface AddInstruction extends CopyLike {
  kind: "add";
  keepGitDir: boolean;
  /** `--checksum=sha256:<hex>` for a URL source. */
  checksum: string | undefined;
  /** `--unpack`: extract a remote archive (default: local archives are extracted, remote ones not). */
  unpack: boolean | undefined;
}

export interface VolumeInstruction extends Base {
  kind: "volume";
  volumes: string[];
}

export interface UserInstruction extends Base {
  kind: "user";
  /** `user[:group]`. */
  user: string;
}

export interface WorkdirInstruction extends Base {
  kind: "workdir";
  path: string;
}

export interface ArgDeclaration {
  name: string;
  /** The default as written (unexpanded until expandInstruction). */
  default: string | undefined;
}

export interface ArgInstruction extends Base {
  kind: "arg";
  args: ArgDeclaration[];
  /**
   * The value each declaration resolves to, in order (filled by createBuildPlan, made final by
   * expandInstruction: a default is expanded with the env at that point).
   */
  resolved: ResolvedArg[];
}

export interface OnbuildInstruction extends Base {
  kind: "onbuild";
  /** The trigger as stored in the image config (`OnBuild`): the text after ONBUILD. */
  expression: string;
  /** The trigger, parsed and validated (never expanded here: it runs in the child build). */
  trigger: Instruction;
}

export interface StopsignalInstruction extends Base {
  kind: "stopsignal";
  signal: string;
}

export interface HealthcheckInstruction extends Base {
  kind: "healthcheck";
  /** As in the image config: `["NONE"]`, `["CMD", argv…]` or `["CMD-SHELL", line]`. */
  test: string[];
  /** Durations in nanoseconds as in the image config; 0 = not set (the runtime's default). */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface ShellInstruction extends Base {
  kind: "shell";
  shell: string[];
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | AddInstruction
  | CopyInstruction
  | EntrypointInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

export type InstructionKind = Instruction["kind"];

/** `RUN --mount=type=bind` (the default type): files from the context, a stage or an image, read-only by default. */
export interface BindMount {
  type: "bind";
  target: string;
  /** Path in the source; default its root. */
  source: string | undefined;
  /** Default: the build context. */
  from: SourceRef | undefined;
  readonly: boolean;
}

/** `RUN --mount=type=cache`: a directory kept between builds, keyed by `id` (default: the target). */
export interface CacheMount {
  type: "cache";
  target: string;
  id: string | undefined;
  sharing: "shared" | "private" | "locked";
  from: SourceRef | undefined;
  source: string | undefined;
  readonly: boolean;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

export interface TmpfsMount {
  type: "tmpfs";
  target: string;
  /** Bytes; undefined: unlimited. */
  size: number | undefined;
}

/** `RUN --mount=type=secret`: a file (default `/run/secrets/<id>`) or, with `env=`, an environment variable. */
export interface SecretMount {
  type: "secret";
  id: string | undefined;
  target: string | undefined;
  env: string | undefined;
  required: boolean;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

export interface SshMount {
  type: "ssh";
  id: string | undefined;
  target: string | undefined;
  required: boolean;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
}

export type Mount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;
