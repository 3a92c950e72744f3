// Cache shared through a registry: a second machine (a fresh root) with --cache-from pulls layers
// instead of running the steps — registry cache (mode=max and min) and inline cache.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./support.js";
import { inspectImage, storeWithBusybox } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import type { BuildEvent } from "../../src/build/index.js";

const test = suite("remote cache");
let registry: TestRegistry;
let context = "";

const DOCKERFILE = "FROM busybox:latest AS helper\nRUN echo helper-ran > /helper\n\nFROM busybox:latest\nCOPY input.txt /input.txt\nRUN echo first-ran && cat /input.txt > /one\nCOPY --from=helper /helper /helper\nRUN echo second-ran > /two\n";

test.before(async () => {
  registry = await startRegistry();
  context = await mkdtemp(join(tmpdir(), "bi-remote-cache-"));
  await writeFile(join(context, "Dockerfile"), DOCKERFILE);
  await writeFile(join(context, "input.txt"), "input\n");
});
test.after(async () => {
  await registry.stop();
  await rm(context, { recursive: true, force: true });
});

async function machine<T>(fn: (root: string) => Promise<T>): Promise<T> {
  const { root, dispose } = await storeWithBusybox("bi-machine-");
  try {
    return await fn(root);
  } finally {
    await dispose();
  }
}

function ranRuns(events: BuildEvent[]): string[] {
  const names = new Map(events.flatMap((e) => (e.type === "step-start" ? [[e.id, e.name] as const] : [])));
  return events.flatMap((e) => (e.type === "cache" && !e.hit && names.get(e.id)!.startsWith("RUN") ? [names.get(e.id)!] : []));
}

test("--cache-to type=registry,mode=max then --cache-from on a fresh root: no RUN step runs", async () => {
  const ref = `${registry.host}/cache/app:buildcache`;
  await machine((root) => build({ context, root, cacheTo: [`type=registry,ref=${ref},mode=max`] }));
  await machine(async (root) => {
    const events: BuildEvent[] = [];
    const result = await build({ context, root, tags: ["second:1"], cacheFrom: [`type=registry,ref=${ref}`], onEvent: (e) => events.push(e) });
    assert.equal(ranRuns(events), []);
    assert.not.ok(events.some((e) => e.type === "log"), "no process ran");
    assert.is(result.manifest.layers.length, 5);
    await inspectImage(root, "second:1", async (stat) => {
      assert.is((await stat("/one"))?.content, "input\n");
      assert.is((await stat("/helper"))?.content, "helper-ran\n");
      assert.is((await stat("/two"))?.content, "second-ran\n");
    });
  });
});

test("inline cache: --cache-to type=inline --push, then --cache-from the image", async () => {
  const image = `${registry.host}/cache/inline:1`;
  await machine((root) => build({ context, root, tags: [image], push: true, cacheTo: ["type=inline"] }));
  await machine(async (root) => {
    const events: BuildEvent[] = [];
    await build({ context, root, cacheFrom: [image], onEvent: (e) => events.push(e) });
    // Inline cache is mode=min: the final image's steps hit; the helper stage's RUN is not in the image.
    assert.equal(ranRuns(events), ["RUN echo helper-ran > /helper"]);
  });
});

test("a --cache-from that does not exist yet is a warning, and the build runs", async () => {
  await machine(async (root) => {
    const events: BuildEvent[] = [];
    await build({ context, root, cacheFrom: [`type=registry,ref=${registry.host}/cache/none:nothing`], onEvent: (e) => events.push(e) });
    assert.ok(events.some((e) => e.type === "warning" && e.code === "CACHE_IMPORT_FAILED"));
    assert.is(ranRuns(events).length, 3);
  });
});

test.run();
