import { EXPLAIN_ONLY_FIELDS, type CacheField, type CacheInputs, type CacheRecord } from "./cache.js";
import { sameField } from "./key.js";

export const FIRST_BUILD = "no cache record (first build of this step)";

const KIND_NAME: Record<CacheInputs["kind"], string> = { from: "FROM", run: "RUN", copy: "COPY", add: "ADD", workdir: "WORKDIR", meta: "" };

/** The order fields are compared in: the cause before its consequences (a build arg before the command it expands into). */
const FIELD_ORDER: Record<CacheInputs["kind"], string[]> = {
  from: ["digest", "platform"],
  run: ["args", "env", "command", "shell", "user", "workdir", "network", "mounts", "security"],
  copy: ["paths", "sources", "heredocs", "from", "dest", "workdir", "chown", "chmod", "link", "parents", "exclude"],
  add: ["paths", "sources", "urls", "heredocs", "checksum", "dest", "workdir", "chown", "chmod", "link", "keepGitDir", "unpack", "exclude"],
  workdir: ["path"],
  meta: ["instruction"],
};

/** Words for scalar fields that are not simply `<field> changed`. */
const FIELD_WORDS: Record<string, string> = {
  digest: "base image",
  workdir: "working directory",
  dest: "destination",
  paths: "sources",
  chown: "--chown",
  chmod: "--chmod",
  from: "--from",
  link: "--link",
  parents: "--parents",
  exclude: "--exclude",
  checksum: "--checksum",
  keepGitDir: "--keep-git-dir",
  unpack: "--unpack",
  mounts: "--mount",
  security: "--security",
  network: "network",
  urls: "downloaded content",
  heredocs: "heredoc",
};

/**
 * Inputs a step takes from the steps before it (ENV, ARG, USER, WORKDIR, SHELL): when the parent changed
 * because of one of them, naming it says more than "parent step changed".
 */
const INHERITED_FIELDS = ["args", "env", "user", "workdir", "shell"];

/**
 * Why `now` misses against `old`, a record of the same step: the first input that differs, in the order of
 * FIELD_ORDER, in words a user understands. With `parentChanged`, only inherited inputs are named (else
 * "parent step changed").
 */
export function explainDifference(old: CacheRecord, now: CacheInputs, parentChanged = false): string {
  if (old.inputs.kind !== now.kind) return `instruction changed (${KIND_NAME[old.inputs.kind] || "metadata"} → ${KIND_NAME[now.kind] || "metadata"})`;
  const prefix = stepPrefix(now);
  const known = FIELD_ORDER[now.kind];
  const rest = [...new Set([...Object.keys(old.inputs.fields), ...Object.keys(now.fields)])].filter((n) => !known.includes(n)).sort();
  for (const name of parentChanged ? INHERITED_FIELDS : [...known, ...rest]) {
    if (EXPLAIN_ONLY_FIELDS.has(name)) continue;
    const before = old.inputs.fields[name];
    const after = now.fields[name];
    if (sameField(before, after)) continue;
    return describeField(now, prefix, name, before, after, old.inputs.fields.files, now.fields.files);
  }
  return parentChanged ? "parent step changed" : "the cached result is no longer in the store";
}

/** `RUN`, `COPY src/`, `ENV`: how the explanation names the step. */
function stepPrefix(inputs: CacheInputs): string {
  if (inputs.kind === "meta") return typeof inputs.fields.instruction === "string" ? inputs.fields.instruction : "metadata";
  const paths = inputs.fields.paths;
  const label = Array.isArray(paths) ? paths.join(" ") : typeof paths === "string" ? paths : "";
  return label && (inputs.kind === "copy" || inputs.kind === "add") ? `${KIND_NAME[inputs.kind]} ${label}` : KIND_NAME[inputs.kind];
}

function describeField(now: CacheInputs, prefix: string, name: string, before: CacheField | undefined, after: CacheField | undefined, oldFiles: CacheField | undefined, newFiles: CacheField | undefined): string {
  if (name === "env") return `ENV ${firstChangedEntry(before, after)} changed`;
  if (name === "args") return `${prefix}: build arg ${firstChangedEntry(before, after)} changed`;
  if (name === "sources") return `${prefix}: ${changedFile(oldFiles, newFiles) ?? "source files changed"}`;
  if (now.kind === "workdir" && name === "path") return `WORKDIR changed${fromTo(before, after)}`;
  if (now.kind === "meta") {
    if (name === "instruction") return `instruction changed${fromTo(before, after)}`;
    if (isRecord(before) || isRecord(after)) return `${prefix} ${firstChangedEntry(before, after)} changed`;
    return `${prefix} changed`;
  }
  if (name === "command") return `${prefix}: command changed`;
  if (isRecord(before) || isRecord(after)) return `${prefix}: ${FIELD_WORDS[name] ?? name} ${firstChangedEntry(before, after)} changed`;
  return `${prefix}: ${FIELD_WORDS[name] ?? name} changed${fromTo(before, after)}`;
}

function isRecord(value: CacheField | undefined): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first (sorted) name whose value differs, is added, or is removed between two records. */
function firstChangedEntry(before: CacheField | undefined, after: CacheField | undefined): string {
  const a = isRecord(before) ? before : {};
  const b = isRecord(after) ? after : {};
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.find((n) => a[n] !== b[n]) ?? names[0] ?? "?";
}

/** `src/app.ts changed` / `added` / `removed`, from per-file digests; undefined when either side lacks them. */
function changedFile(oldFiles: CacheField | undefined, newFiles: CacheField | undefined): string | undefined {
  if (!isRecord(oldFiles) || !isRecord(newFiles)) return undefined;
  const names = [...new Set([...Object.keys(oldFiles), ...Object.keys(newFiles)])].sort();
  for (const name of names) {
    if (!(name in oldFiles)) return `${name} added`;
    if (!(name in newFiles)) return `${name} removed`;
    if (oldFiles[name] !== newFiles[name]) return `${name} changed`;
  }
  return undefined;
}

/** ` (a → b)` when both sides are short enough to read; digests are shortened as `docker images` does. */
function fromTo(before: CacheField | undefined, after: CacheField | undefined): string {
  const show = (v: CacheField | undefined) => {
    const text = v === undefined ? "" : Array.isArray(v) ? v.join(" ") : typeof v === "string" ? v : JSON.stringify(v);
    if (text === "") return "none";
    return /^sha256:[0-9a-f]{64}$/.test(text) ? text.slice(0, 19) : text;
  };
  const a = show(before);
  const b = show(after);
  return a.length + b.length <= 80 ? ` (${a} → ${b})` : "";
}
