// The build cache's invalidation rules, asserted through the events a build emits: which steps hit,
// which missed, and the reason each miss gives.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmod, mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "./support.js";
import { storeWithBusybox } from "../helpers/images.js";
import type { BuildEvent } from "../../src/build/index.js";

let root = "";
let dispose = async () => {};
let context = "";

const DOCKERFILE = `FROM busybox:latest AS tool
ARG TOOL_VERSION=1
RUN echo "tool $TOOL_VERSION" > /tool

FROM busybox:latest
ARG VERSION=1.0
ARG UNUSED_HERE=x
ENV MODE=prod
COPY src/ /app/src/
RUN cat /app/src/*.txt > /all
RUN echo "version $VERSION" > /version
COPY --from=tool /tool /tool
RUN <<EOF
echo heredoc-body-1 > /heredoc
EOF
COPY notes.txt /notes.txt
`;

interface Outcome {
  /** Step name → "hit" or the miss reason. */
  steps: Map<string, string>;
}

async function run(buildArgs: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<Outcome> {
  const events: BuildEvent[] = [];
  await build({ context, root, buildArgs, onEvent: (e) => events.push(e), ...extra });
  const names = new Map(events.flatMap((e) => (e.type === "step-start" ? [[e.id, e.name] as const] : [])));
  const steps = new Map<string, string>();
  for (const e of events) if (e.type === "cache") steps.set(names.get(e.id)!.split("\n")[0]!, e.hit ? "hit" : e.reason);
  return { steps };
}

function misses(o: Outcome): string[] {
  return [...o.steps].filter(([, r]) => r !== "hit").map(([name]) => name);
}

const COPY_SRC = "COPY src/ /app/src/";
const RUN_ALL = "RUN cat /app/src/*.txt > /all";
const RUN_VERSION = 'RUN echo "version $VERSION" > /version';
const RUN_TOOL = 'RUN echo "tool $TOOL_VERSION" > /tool';
const COPY_TOOL = "COPY --from=tool /tool /tool";
const RUN_HEREDOC = "RUN <<EOF";
const COPY_NOTES = "COPY notes.txt /notes.txt";

test.before(async () => {
  ({ root, dispose } = await storeWithBusybox());
  context = await mkdtemp(join(tmpdir(), "bi-cache-rules-"));
  await mkdir(join(context, "src"));
  await writeFile(join(context, "Dockerfile"), DOCKERFILE);
  await writeFile(join(context, "src/a.txt"), "a\n");
  await writeFile(join(context, "src/b.txt"), "b\n");
  await writeFile(join(context, "src/ignored.log"), "log 1\n");
  await writeFile(join(context, "notes.txt"), "notes\n");
  await writeFile(join(context, ".dockerignore"), "**/*.log\n");
  const first = await run();
  assert.ok([...first.steps.values()].every((r) => r !== "hit"), "the first build runs everything");
});
test.after(async () => {
  await dispose();
  await rm(context, { recursive: true, force: true });
});

test("nothing changed: every step is CACHED", async () => {
  assert.equal(misses(await run()), []);
});

test("an mtime-only change (touch) misses nothing", async () => {
  const later = new Date(Date.now() + 60_000);
  await utimes(join(context, "src/a.txt"), later, later);
  await utimes(join(context, "notes.txt"), later, later);
  assert.equal(misses(await run()), []);
});

test("a file excluded by .dockerignore changes nothing", async () => {
  await writeFile(join(context, "src/ignored.log"), "log 2, longer\n");
  assert.equal(misses(await run()), []);
});

test("a content change misses that COPY and every later layer step, and names the file", async () => {
  await writeFile(join(context, "src/b.txt"), "b changed\n");
  const o = await run();
  assert.equal(misses(o), [COPY_SRC, RUN_ALL, RUN_VERSION, COPY_TOOL, RUN_HEREDOC, COPY_NOTES]);
  assert.match(o.steps.get(COPY_SRC)!, /b\.txt/);
  assert.match(o.steps.get(RUN_ALL)!, /parent|previous/);
  assert.is(o.steps.get(RUN_TOOL), "hit", "the other stage is untouched");
});

test("a chmod misses", async () => {
  await chmod(join(context, "notes.txt"), 0o600);
  const o = await run();
  assert.equal(misses(o), [COPY_NOTES]);
  assert.match(o.steps.get(COPY_NOTES)!, /notes\.txt/);
});

test("a build arg a step has in scope misses from that step on; one nothing declares misses nothing", async () => {
  const used = await run({ VERSION: "2.0" });
  assert.equal(misses(used).slice(0, 2), [RUN_ALL, RUN_VERSION]);
  assert.match(used.steps.get(RUN_ALL)!, /VERSION/);
  const undeclared = await run({ VERSION: "2.0", NOT_DECLARED_ANYWHERE: "1" });
  assert.equal(misses(undeclared), []);
  const otherStage = await run({ VERSION: "2.0", TOOL_VERSION: "2" });
  assert.equal(misses(otherStage)[0], RUN_TOOL);
  assert.match(otherStage.steps.get(RUN_TOOL)!, /TOOL_VERSION/);
});

test("a changed parent stage misses the COPY --from that uses it (and only from there on)", async () => {
  const o = await run({ VERSION: "2.0", TOOL_VERSION: "3" });
  assert.equal(misses(o), [RUN_TOOL, COPY_TOOL, RUN_HEREDOC, COPY_NOTES]);
});

test("an ENV change misses the steps after it", async () => {
  await writeFile(join(context, "Dockerfile"), DOCKERFILE.replace("ENV MODE=prod", "ENV MODE=dev"));
  const o = await run({ VERSION: "2.0", TOOL_VERSION: "3" });
  assert.equal(misses(o)[0], COPY_SRC);
  assert.match(o.steps.get(RUN_ALL)!, /MODE|parent|previous/);
});

test("a heredoc body change misses that RUN", async () => {
  await writeFile(join(context, "Dockerfile"), DOCKERFILE.replace("ENV MODE=prod", "ENV MODE=dev").replace("heredoc-body-1", "heredoc-body-2"));
  const o = await run({ VERSION: "2.0", TOOL_VERSION: "3" });
  assert.equal(misses(o), [RUN_HEREDOC, COPY_NOTES]);
  assert.match(o.steps.get(RUN_HEREDOC)!, /command/);
});

test("--no-cache-filter STAGE misses only that stage's steps", async () => {
  const o = await run({ VERSION: "2.0", TOOL_VERSION: "3" }, { noCacheFilter: ["tool"] });
  assert.is(o.steps.get(RUN_TOOL), "--no-cache");
  assert.is(o.steps.get(COPY_SRC), "hit");
  assert.is(o.steps.get(COPY_TOOL), "hit", "the tool stage made the same file again");
});

test("--no-cache misses everything and says so", async () => {
  const o = await run({ VERSION: "2.0", TOOL_VERSION: "3" }, { noCache: true });
  assert.ok([...o.steps.values()].every((r) => r === "--no-cache"));
});

test.run();
