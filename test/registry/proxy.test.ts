import { test } from "uvu";
import * as assert from "uvu/assert";
import { proxyFor, proxySettings } from "../../src/registry/proxy.js";

test("proxy choice follows Go's HTTP_PROXY / HTTPS_PROXY / NO_PROXY rules", () => {
  const settings = proxySettings({ HTTPS_PROXY: "http://p:3128", http_proxy: "http://q:3128", no_proxy: "internal.example, .corp, reg.example:5000, 10.0.0.0/8, 192.168.1.7" })!;
  const via = (url: string) => proxyFor(new URL(url), settings);
  assert.is(via("https://ghcr.io/v2/"), "http://p:3128");
  assert.is(via("http://plain.example/v2/"), "http://q:3128");
  assert.is(via("https://internal.example/v2/"), undefined);
  assert.is(via("https://a.internal.example/v2/"), undefined, "subdomains too");
  assert.is(via("https://x.corp/v2/"), undefined);
  assert.is(via("https://reg.example:5000/v2/"), undefined);
  assert.is(via("https://reg.example:5001/v2/"), "http://p:3128", "the port must match");
  assert.is(via("https://10.20.30.40/v2/"), undefined, "CIDR");
  assert.is(via("https://11.0.0.1/v2/"), "http://p:3128");
  assert.is(via("https://192.168.1.7:5000/v2/"), undefined);
  assert.is(via("https://127.0.0.5:5000/v2/"), undefined, "loopback never");
  assert.is(via("https://localhost:5000/v2/"), undefined);
  assert.is(via("https://[::1]:5000/v2/"), undefined);
  assert.is(proxyFor(new URL("https://ghcr.io"), proxySettings({ HTTP_PROXY: "http://q:3128" })), undefined, "https uses HTTPS_PROXY only");
  assert.is(proxyFor(new URL("https://ghcr.io"), proxySettings({ HTTPS_PROXY: "http://p", NO_PROXY: "*" })), undefined);
  assert.is(proxySettings({}), undefined);
});

test.run();
