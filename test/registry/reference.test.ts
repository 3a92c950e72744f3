import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseReference, withTag, hostPlatform, parsePlatform, selectPlatform, type IndexEntry } from "../../src/registry/index.js";

const digest = `sha256:${"a".repeat(64)}`;

const normalized: [string, string, string, string | undefined, string | undefined][] = [
  // input, registry, repository, tag, digest
  ["alpine", "docker.io", "library/alpine", "latest", undefined],
  ["alpine:3.19", "docker.io", "library/alpine", "3.19", undefined],
  ["library/alpine", "docker.io", "library/alpine", "latest", undefined],
  ["user/app", "docker.io", "user/app", "latest", undefined],
  ["docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
  ["index.docker.io/user/app:1", "docker.io", "user/app", "1", undefined],
  ["localhost/app", "localhost", "app", "latest", undefined],
  ["localhost:5000/app", "localhost:5000", "app", "latest", undefined],
  ["127.0.0.1:5000/team/app:v1.2-rc_3", "127.0.0.1:5000", "team/app", "v1.2-rc_3", undefined],
  ["ghcr.io/o/a/b/c", "ghcr.io", "o/a/b/c", "latest", undefined],
  [`alpine@${digest}`, "docker.io", "library/alpine", undefined, digest],
  [`reg.example:443/a:1@${digest}`, "reg.example:443", "a", "1", digest],
  ["[::1]:5000/app", "[::1]:5000", "app", "latest", undefined],
  ["a__b-c---d/x.y_z", "docker.io", "a__b-c---d/x.y_z", "latest", undefined],
  ["Registry/app", "Registry", "app", "latest", undefined],
];

test("references normalize as Docker's", () => {
  for (const [input, registry, repository, tag, dig] of normalized) {
    const ref = parseReference(input);
    assert.equal([ref.registry, ref.repository, ref.tag, ref.digest], [registry, repository, tag, dig], input);
  }
  assert.is(parseReference("alpine").toString(), "docker.io/library/alpine:latest");
  assert.is(parseReference(`127.0.0.1:5000/a:1@${digest}`).toString(), `127.0.0.1:5000/a:1@${digest}`);
  assert.is(withTag(parseReference(`x/y@${digest}`), "2").toString(), "docker.io/x/y:2");
});

test("bad references are errors that say why", () => {
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["Alpine", /lower-case/],
    ["docker.io/User/app", /lower-case/],
    ["app:", /not a valid tag/],
    ["app:-x", /not a valid tag/],
    [`app:${"t".repeat(129)}`, /not a valid tag/],
    ["app@sha256:abc", /not a digest/],
    [`app@sha256:${"A".repeat(64)}`, /64 lower-case hex/],
    ["a".repeat(64).replace(/a/g, "f"), /image ID/],
    ["host:5000/", /empty/],
    ["a//b", /not a valid repository path component/],
    ["-x.example/app", /not a valid registry host/],
    [`reg.example/${"a".repeat(260)}`, /longer than 255/],
    ["app_/x", /not a valid repository path component/],
    ["a__b.c/x", /not a valid registry host/],
  ];
  for (const [input, why] of bad) {
    try {
      parseReference(input);
      assert.unreachable(input);
    } catch (err) {
      assert.is((err as { code?: string }).code, "REGISTRY_BAD_REFERENCE", input);
      assert.match((err as Error).message, why, input);
    }
  }
});

const entry = (architecture: string, variant?: string, os = "linux"): IndexEntry => ({
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${architecture}${variant ?? ""}${os}`.padEnd(71, "0"),
  size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

test("platforms: the host maps to GOARCH names, and an index entry is chosen like containerd", () => {
  const host = hostPlatform();
  assert.is(host.os, "linux");
  assert.is(host.architecture, { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? host.architecture);
  assert.equal(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.equal(parsePlatform("linux/x64"), { os: "linux", architecture: "amd64", variant: undefined });
  const index = [entry("amd64"), entry("arm64", "v8"), entry("arm", "v6"), entry("arm", "v7"), entry("amd64", undefined, "windows"), entry("unknown", undefined, "unknown")];
  assert.is(selectPlatform(index, { os: "linux", architecture: "amd64" }), index[0]);
  assert.is(selectPlatform(index, { os: "linux", architecture: "arm64" }), index[1], "v8 is arm64's default variant");
  assert.is(selectPlatform(index, { os: "linux", architecture: "arm", variant: "v7" }), index[3]);
  assert.is(selectPlatform(index, { os: "linux", architecture: "arm", variant: "v8" }), index[3], "the newest older arm variant");
  assert.is(selectPlatform(index, { os: "windows", architecture: "amd64" }), index[4]);
  assert.is(selectPlatform(index, { os: "linux", architecture: "s390x" }), undefined);
  assert.is(selectPlatform([entry("arm", "v7")], { os: "linux", architecture: "arm", variant: "v6" }), undefined, "a v6 CPU cannot run v7");
});

test.run();
