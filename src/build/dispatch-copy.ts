/**
 * COPY and ADD: sources from the context (after .dockerignore), a stage or an image; heredoc files;
 * ADD's archives and URLs. The cache key is the Merkle hash of exactly the selected sources, so an
 * mtime-only change is a hit and any content, mode or owner change is a miss.
 */
import type { CacheInputs } from "../cache/index.js";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  addIntoRoot,
  applyChmod,
  copyDownloadIntoRoot,
  copyIntoRoot,
  downloadUrl,
  isUrlSource,
  parseChmod,
  resolveUserSpec,
  selectSources,
  writeContentIntoRoot,
  type Chmod,
  type Download,
  type Owner,
  type Selection,
  type SourceRoot,
} from "../context/index.js";
import type { AddInstruction, CopyInstruction } from "../instructions/index.js";
import { ownedName, runInSnapshot } from "../layers/index.js";
import { BuildError } from "./errors.js";
import { commitOptions } from "./dispatch-run.js";
import { cachedLayerStep, commitResult, type BuildServices, type Step, type StepOutcome } from "./step.js";
import type { StageState } from "./stage-state.js";

type CopyLike = CopyInstruction | AddInstruction;

/** `--chmod`: octal, or symbolic (`u+x,g-w`) applied to each entry's own mode. */
function chmodOf(instr: CopyLike): Chmod | undefined {
  if (instr.chmod === undefined) return undefined;
  const chmod = parseChmod(instr.chmod);
  if (chmod === undefined) {
    throw new BuildError("BUILD_INVALID_CHMOD", `--chmod=${instr.chmod} is not a mode`, { location: instr.location, hint: "write it in octal (0755) or symbolically (u+x,g-w)" });
  }
  return chmod;
}

/** Where the sources come from: the context, or a stage's or image's root filesystem (mounted read-only). */
async function withSourceRoot<T>(services: BuildServices, instr: CopyLike, fn: (source: SourceRoot) => Promise<T>): Promise<T> {
  const from = instr.kind === "copy" ? instr.from : undefined;
  if (!from) return fn(services.context);
  const chainId = from.kind === "stage" ? (await services.stageResult(from.index)).chainId : (await services.imageChain(from.ref)).chainId;
  if (chainId === null) {
    throw new BuildError("BUILD_SOURCE_EMPTY", `COPY --from=${from.kind === "stage" ? from.name : from.ref}: that root filesystem is empty`, {
      location: instr.location,
      hint: "copy from a stage or image that has files",
    });
  }
  const view = await services.store.snapshots.view(chainId);
  try {
    return await fn({ dir: view.root, preserveOwner: true });
  } finally {
    await view.release();
  }
}

export async function dispatchCopy(services: BuildServices, state: StageState, step: Step, instr: CopyLike): Promise<StepOutcome> {
  const urls = instr.kind === "add" ? instr.sources.filter(isUrlSource) : [];
  const locals = instr.sources.filter((s) => !urls.includes(s));
  // ADD <url> is keyed on what it downloaded, so the download happens before the cache lookup (as BuildKit).
  if (urls.length === 0) return copySources(services, state, step, instr, locals, []);
  const downloads: Download[] = [];
  // An owned dir under tmp/: what a killed build downloaded is removed by the next openStore.
  const tmpDir = join(services.store.root, "tmp", ownedName(".add"));
  await mkdir(tmpDir);
  try {
    for (const url of urls) {
      downloads.push(
        await downloadUrl(url, {
          tmpDir,
          ...(instr.kind === "add" && instr.checksum !== undefined ? { checksum: instr.checksum } : {}),
          ...(services.options.signal ? { signal: services.options.signal } : {}),
        }),
      );
    }
    return await copySources(services, state, step, instr, locals, downloads);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

async function copySources(services: BuildServices, state: StageState, step: Step, instr: CopyLike, locals: string[], downloads: Download[]): Promise<StepOutcome> {
  const chmod = chmodOf(instr);
  const workdir = state.config.config?.WorkingDir || "/";
  return withSourceRoot(services, instr, async (source) => {
    const selection: Selection | undefined = locals.length > 0 ? await selectSources(source, locals, selectOptions(instr)) : undefined;
    const described = selection ? await describe(services, source, selection, chmod) : undefined;
    const inputs: CacheInputs = {
      kind: instr.kind,
      fields: {
        paths: instr.sources,
        sources: described?.digest ?? "",
        // Explanation only (not part of the key): per-file digests, so a miss can name the file that changed.
        files: described?.files ?? {},
        urls: downloads.map((d) => `${d.url}@${d.digest}`),
        heredocs: instr.files.map((f) => `${f.name}:${f.content}`),
        dest: instr.dest,
        workdir,
        chown: instr.chown ?? "",
        chmod: instr.chmod ?? "",
        from: instr.kind === "copy" && instr.from ? (instr.from.kind === "stage" ? `stage:${instr.from.name}` : `image:${instr.from.ref}`) : "context",
        link: String(instr.link),
        parents: String(instr.parents),
        exclude: instr.exclude,
      },
    };
    return cachedLayerStep(services, state, step, inputs, async () => {
      const { layer } = await runInSnapshot(services.store.snapshots, state.chainId, async (root) => {
        const owner: Owner | undefined = instr.chown === undefined ? undefined : await resolveOwner(root, instr.chown);
        // URLs and heredocs count as sources too: several of them need a directory destination.
        const sourceCount = (selection?.matchedCount ?? 0) + downloads.length + instr.files.length;
        const options = { workdir, sourceCount, ...(owner ? { chown: owner } : {}), ...(chmod !== undefined ? { chmod } : {}) };
        if (selection && instr.kind === "add") await addIntoRoot(selection, root, instr.dest, options);
        else if (selection) await copyIntoRoot(selection, root, instr.dest, options);
        // A downloaded file starts as 0600 and a heredoc file as 0644 (BuildKit); --chmod applies to those.
        for (const download of downloads) await copyDownloadIntoRoot(download, root, instr.dest, { ...options, chmod: applyChmod(chmod ?? 0o600, 0o600, false) });
        for (const file of instr.files) await writeContentIntoRoot(file.content, root, instr.dest, { ...options, chmod: applyChmod(chmod ?? 0o644, 0o644, false), name: file.name });
      }, commitOptions(services));
      return commitResult(layer);
    });
  });
}

function selectOptions(instr: CopyLike) {
  return { exclude: instr.exclude, parents: instr.parents };
}


/** The Merkle digest of the selection and one digest per path; the context keeps a memo, other roots do not. */
async function describe(services: BuildServices, source: SourceRoot, selection: Selection, chmod: Chmod | undefined) {
  const options = chmod !== undefined ? { chmod } : {};
  return (source === services.context ? services.context.hasher : selection.hasher).describeSelection(selection, options);
}

/** `--chown` names resolve in the image being built; a number without a group means uid:uid (Docker). */
async function resolveOwner(rootfs: string, spec: string): Promise<Owner> {
  const user = await resolveUserSpec(rootfs, spec, { missingGroup: "uid" });
  return { uid: user.uid, gid: user.gid };
}
