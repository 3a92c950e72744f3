import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatPlatform, hostPlatform, parseDuration, parsePlatform, platformArgs } from "../../src/instructions/index.js";
import { fails } from "./helpers.js";

test("platforms are normalized as containerd does", () => {
  assert.equal(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
  assert.equal(parsePlatform("Linux/x86_64"), { os: "linux", architecture: "amd64" });
  assert.equal(parsePlatform("linux/aarch64"), { os: "linux", architecture: "arm64" });
  assert.equal(parsePlatform("linux/arm64/v8"), { os: "linux", architecture: "arm64" });
  assert.equal(parsePlatform("linux/arm"), { os: "linux", architecture: "arm", variant: "v7" });
  assert.equal(parsePlatform("linux/arm/v6"), { os: "linux", architecture: "arm", variant: "v6" });
  assert.equal(parsePlatform("linux/amd64/v3"), { os: "linux", architecture: "amd64", variant: "v3" });
  assert.is(formatPlatform(parsePlatform("linux/armhf")), "linux/arm/v7");
  fails(() => parsePlatform("amd64"), "DOCKERFILE_BAD_PLATFORM", /invalid platform 'amd64'/);
  fails(() => parsePlatform("linux/amd64/v3/x"), "DOCKERFILE_BAD_PLATFORM");
});

test("the host platform and the eight platform args", () => {
  assert.is(hostPlatform().os, "linux");
  assert.equal(platformArgs(parsePlatform("linux/arm/v7"), parsePlatform("linux/amd64")), {
    TARGETPLATFORM: "linux/arm/v7",
    TARGETOS: "linux",
    TARGETARCH: "arm",
    TARGETVARIANT: "v7",
    BUILDPLATFORM: "linux/amd64",
    BUILDOS: "linux",
    BUILDARCH: "amd64",
    BUILDVARIANT: "",
  });
});

test("Go durations in nanoseconds", () => {
  assert.is(parseDuration("0"), 0);
  assert.is(parseDuration("30s"), 30e9);
  assert.is(parseDuration("1m30s"), 90e9);
  assert.is(parseDuration("1.5h"), 5400e9);
  assert.is(parseDuration("500ms"), 500e6);
  assert.is(parseDuration("10us"), 10e3);
  assert.is(parseDuration("10µs"), 10e3);
  assert.is(parseDuration(".5s"), 500e6);
  assert.is(parseDuration("-1s"), -1e9);
  assert.is(parseDuration("30"), undefined);
  assert.is(parseDuration("1d"), undefined);
  assert.is(parseDuration(""), undefined);
});

test.run();
