// push, pull, login and logout: the registry commands, as docker's.
import { pullIntoStore, pushFromStore, registryClient } from "../../build/index.js";
import { defaultRoot, hostPlatform, openStore, parsePlatform, type Store } from "../../layers/index.js";
import { login, logout, type RegistryClient } from "../../registry/index.js";
import { parseCommandLine, UsageError } from "../args.js";
import { EXIT_OK, type Command, type CommandIO } from "../command.js";

const storeOptions = { root: { type: "string" }, "insecure-registry": { type: "string", multiple: true }, "ca-file": { type: "string" } } as const;

type StoreValues = { root?: string; "insecure-registry"?: string[]; "ca-file"?: string };

/** Runs `fn` with the store and a registry client, closing both however it ends. */
async function withStoreAndRegistry<T>(values: StoreValues, io: CommandIO, fn: (store: Store, client: RegistryClient) => Promise<T>): Promise<T> {
  const client = registryClient({ insecureRegistries: values["insecure-registry"] ?? [], ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}), env: io.env });
  try {
    const store = await openStore(values.root ?? defaultRoot(io.env));
    try {
      return await fn(store, client);
    } finally {
      await store.close();
    }
  } finally {
    await client.close();
  }
}

export const pushCommand: Command = {
  name: "push",
  summary: "Push an image to a registry",
  usage: `Usage: build-image push [OPTIONS] IMAGE [DESTINATION]

Push a local image to the registry its name points at (or to DESTINATION).

Options:
      --insecure-registry HOST  Allow plain http for this registry (localhost and 127.0.0.0/8 always may)
      --ca-file FILE            Extra CA certificates (PEM) to trust
      --root DIR                Store root (env BUILD_IMAGE_ROOT)
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, storeOptions, "push");
    const [image, destination] = positionals;
    if (!image || positionals.length > 2) throw new UsageError("expected IMAGE [DESTINATION]", "e.g. 'build-image push 127.0.0.1:5000/app:1'");
    const result = await withStoreAndRegistry(values, io, (store, client) => pushFromStore(store, client, image, destination ?? image));
    io.stdout.write(`${destination ?? image}: pushed ${result.pushed} blob(s), ${result.skipped} already there\ndigest: ${result.digest}\n`);
    return EXIT_OK;
  },
};

export const pullCommand: Command = {
  name: "pull",
  summary: "Pull an image from a registry",
  usage: `Usage: build-image pull [OPTIONS] IMAGE

Pull an image (for this host's platform, or --platform) into the local store.

Options:
      --platform OS/ARCH[/VARIANT]
      --insecure-registry HOST  Allow plain http for this registry (localhost and 127.0.0.0/8 always may)
      --ca-file FILE            Extra CA certificates (PEM) to trust
      --root DIR                Store root (env BUILD_IMAGE_ROOT)
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(argv, { ...storeOptions, platform: { type: "string" } }, "pull");
    const [image] = positionals;
    if (!image || positionals.length > 1) throw new UsageError("expected one IMAGE", "e.g. 'build-image pull 127.0.0.1:5000/app:1'");
    const platform = values.platform ? parsePlatform(values.platform) : hostPlatform();
    const result = await withStoreAndRegistry(values, io, (store, client) => pullIntoStore(store, client, image, platform));
    io.stdout.write(`${result.name}: ${result.fetched.length} blob(s) downloaded\ndigest: ${result.manifestDigest}\n`);
    return EXIT_OK;
  },
};

export const loginCommand: Command = {
  name: "login",
  summary: "Log in to a registry (writes ~/.docker/config.json)",
  usage: `Usage: build-image login [OPTIONS] REGISTRY

Check credentials against a registry and store them as 'docker login' does.

Options:
  -u, --username NAME
  -p, --password PASSWORD   (prefer --password-stdin)
      --password-stdin      Read the password from stdin
      --insecure-registry HOST
      --ca-file FILE
`,
  async run(argv, io) {
    const { values, positionals } = parseCommandLine(
      argv,
      { username: { type: "string", short: "u" }, password: { type: "string", short: "p" }, "password-stdin": { type: "boolean" }, "insecure-registry": { type: "string", multiple: true }, "ca-file": { type: "string" } },
      "login",
    );
    const [registry] = positionals;
    if (!registry || positionals.length > 1) throw new UsageError("expected one REGISTRY", "e.g. 'build-image login -u me --password-stdin 127.0.0.1:5000'");
    if (!values.username) throw new UsageError("--username is required");
    let password = values.password;
    if (values["password-stdin"]) password = (await readStdin(io)).replace(/\r?\n$/, "");
    if (password === undefined) throw new UsageError("a password is required", "use --password-stdin");
    const file = await login(registry, { username: values.username, password }, {
      insecureRegistries: values["insecure-registry"] ?? [],
      ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
      env: io.env,
    });
    io.stdout.write(`Login Succeeded (credentials stored in ${file})\n`);
    return EXIT_OK;
  },
};

export const logoutCommand: Command = {
  name: "logout",
  summary: "Forget a registry's stored credentials",
  usage: `Usage: build-image logout REGISTRY
`,
  async run(argv, io) {
    const { positionals } = parseCommandLine(argv, {}, "logout");
    const [registry] = positionals;
    if (!registry || positionals.length > 1) throw new UsageError("expected one REGISTRY");
    const removed = await logout(registry, { env: io.env });
    io.stdout.write(removed ? `Removing login credentials for ${registry}\n` : `Not logged in to ${registry}\n`);
    return EXIT_OK;
  },
};

async function readStdin(io: CommandIO): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

