import { test } from "uvu";
import * as assert from "uvu/assert";
import { cacheKey, type CacheInputs } from "../../src/cache/index.js";

const base = "sha256:" + "a".repeat(64);

const run = (over: Partial<Record<string, unknown>> = {}): CacheInputs => ({
  kind: "run",
  fields: {
    command: "npm ci",
    shell: ["/bin/sh", "-c"],
    env: { PATH: "/usr/bin:/bin", NODE_ENV: "production" },
    args: { VERSION: "1.2" },
    user: "",
    workdir: "/app",
    network: "default",
    mounts: ["type=cache,target=/root/.npm", "type=secret,id=npmrc"],
    security: "sandbox",
    ...(over as Record<string, never>),
  },
});

test("a key is sha256 of the inputs, the same every time", () => {
  const key = cacheKey(base, run());
  assert.match(key, /^sha256:[0-9a-f]{64}$/);
  assert.is(cacheKey(base, run()), key);
});

test("record key order does not change the key", () => {
  const reordered = run({ env: { NODE_ENV: "production", PATH: "/usr/bin:/bin" } });
  assert.is(cacheKey(base, reordered), cacheKey(base, run()));
  const fieldsReordered: CacheInputs = { kind: "run", fields: Object.fromEntries(Object.entries(run().fields).reverse()) };
  assert.is(cacheKey(base, fieldsReordered), cacheKey(base, run()));
});

test("every RUN input changes the key", () => {
  const key = cacheKey(base, run());
  const changes: Record<string, unknown> = {
    command: "npm ci --omit=dev",
    shell: ["/bin/bash", "-c"],
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", NODE_ENV: "production" },
    args: { VERSION: "1.3" },
    user: "app",
    workdir: "/srv",
    network: "none",
    mounts: ["type=cache,target=/root/.npm"],
    security: "insecure",
  };
  const seen = new Set([key]);
  for (const [field, value] of Object.entries(changes)) {
    const changed = cacheKey(base, run({ [field]: value }));
    assert.not.ok(seen.has(changed), `${field} should change the key`);
    seen.add(changed);
  }
  // An extra env entry or build arg is a change too.
  assert.is.not(cacheKey(base, run({ args: { VERSION: "1.2", EXTRA: "" } })), key);
});

test("the parent, and the kind, are part of the key", () => {
  assert.is.not(cacheKey("sha256:" + "b".repeat(64), run()), cacheKey(base, run()));
  assert.is.not(cacheKey(null, run()), cacheKey(base, run()));
  const fields = { dest: "/app", sources: base };
  assert.is.not(cacheKey(base, { kind: "copy", fields }), cacheKey(base, { kind: "add", fields }));
});

test("COPY: per-file digests are for explanations only, the Merkle digest is keyed", () => {
  const copy = (sources: string, files: Record<string, string>): CacheInputs => ({ kind: "copy", fields: { paths: ["src/"], sources, files, dest: "/app/", chown: "", chmod: "", from: "", link: "false", parents: "false", exclude: [] } });
  const a = cacheKey(base, copy("sha256:" + "1".repeat(64), { "src/a.ts": "x" }));
  assert.is(cacheKey(base, copy("sha256:" + "1".repeat(64), { "src/a.ts": "y", "src/b.ts": "z" })), a);
  assert.is.not(cacheKey(base, copy("sha256:" + "2".repeat(64), { "src/a.ts": "x" })), a);
});

test("list order is kept (a different order is a different command)", () => {
  assert.is.not(cacheKey(base, run({ shell: ["-c", "/bin/sh"] })), cacheKey(base, run()));
});

test("a known key does not drift between versions", () => {
  // If this changes, KEY_FORMAT must change too: every user's cache would silently stop matching.
  assert.is(cacheKey(null, { kind: "from", fields: { digest: base, platform: "linux/amd64" } }), cacheKey(null, { kind: "from", fields: { platform: "linux/amd64", digest: base } }));
  assert.is(cacheKey(null, { kind: "from", fields: { digest: base, platform: "linux/amd64" } }), "sha256:57a39402c565b43eedf2f742bf52b434d3d570ad8c18bf80fe9707c4384f7f29");
});

test("a parent that is not a key is refused", () => {
  try {
    cacheKey("abc", run());
    assert.unreachable();
  } catch (err) {
    assert.is((err as { code: string }).code, "CACHE_KEY_INVALID");
  }
});

test.run();
