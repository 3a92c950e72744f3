export { openContext, type BuildContext, type OpenContextOptions } from "./context.js";
export { ContextError, withLocation, type ContextErrorCode } from "./errors.js";
export { compilePatterns, parseIgnoreFile, InvalidPatternError, type PatternMatcher } from "./patterns.js";
export { goMatch, BadPatternError } from "./go-match.js";
export { resolveInRoot, cleanRelative, type RootPath } from "./in-root.js";
export {
  selectSources,
  type SourceRoot,
  type PlainSource,
  type SelectOptions,
  type Selection,
  type SelectedSource,
  type SelectedEntry,
  type EntryKind,
} from "./select.js";
export { ContentHasher, hashSelection, diffSelectionDigests, type HashOptions, type SelectionDigest } from "./hash.js";
export { copyIntoRoot, type CopyOptions, type Owner } from "./copy.js";
export { resolveDestination, ensureDirInRoot, type Destination, type DestinationOptions } from "./dest.js";
export { writeContentIntoRoot, type ContentOptions } from "./heredoc.js";
export { resolveUserSpec, type ResolvedUser, type ResolveUserOptions } from "./users.js";
export { addIntoRoot, type AddOptions } from "./add.js";
export { detectArchive, extractArchive, type ArchiveFormat, type ExtractOptions } from "./archive.js";
export { downloadUrl, copyDownloadIntoRoot, isUrlSource, type Download, type DownloadOptions, type UrlCopyOptions } from "./url.js";
export { parseChmod, applyChmod, type Chmod } from "./chmod.js";
