/**
 * Federation on this machine: how long a push to instance A takes to become pullable from its
 * follower B (A's Note reaches B, B's mirror fetches and stores the manifest), and how many Notes
 * per second A delivers to N followers (a local server with N actors, each its own inbox).
 *
 *   node bench/federation.ts [--short] [--followers N] [--pushes K]
 *
 * `runFederationBench` is also what `npm run bench` calls (bench/run.ts).
 */

import type { webcrypto } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import { CryptographicKey, Follow, Person } from "@fedify/vocab";
import { pushImage, startFederated, waitFor } from "../test/e2e/federation-support.ts";
import type { Instance } from "../test/helpers/instance.ts";
import { track } from "./lib/proc.ts";
import { median } from "./lib/report.ts";

export interface FederationBenchOptions {
  /** Push-to-pullable samples. */
  pushes: number;
  /** Followers for the delivery rate, and tags pushed to them. */
  followers: number;
  fanoutPushes: number;
  log: (message: string) => void;
}

export interface FederationBenchResult {
  pushToPullableMs: number[];
  medianPushToPullableMs?: number;
  followers: number;
  notesDelivered: number;
  deliverySeconds: number;
  notesPerSecond: number;
  text: string;
}

export async function runFederationBench(
  options: FederationBenchOptions,
): Promise<FederationBenchResult> {
  const started: Instance[] = [];
  const fake = await startFollowers(options.followers);
  try {
    const [a, b] = await Promise.all([startFederated(), startFederated()]);
    started.push(a, b);
    for (const i of started) track(i.process);
    await pushImage(a.url, "bench/app", "warmup");

    options.log(`federation: B follows A's repository`);
    const follow = await fetch(`${b.url}/api/v1/admin/follows`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ target: `${a.url}/ap/repos/bench/app` }),
    });
    if (follow.status !== 201) throw new Error(`follow: ${follow.status} ${await follow.text()}`);
    const mirrored = `127.0.0.1_${a.port}/bench/app`;
    await waitFor(
      "B mirrors A's repository",
      async () => (await fetch(`${b.url}/v2/${mirrored}/tags/list`)).ok,
    );

    const samples: number[] = [];
    for (let i = 0; i < options.pushes; i++) {
      const tag = `v${i}`;
      await pushImage(a.url, "bench/app", tag, `bench-${i}-${Date.now()}`);
      const pushed = performance.now();
      await waitFor(
        `${tag} pullable from B`,
        async () => {
          const res = await fetch(`${b.url}/v2/${mirrored}/manifests/${tag}`, {
            method: "HEAD",
            headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
          });
          return res.ok;
        },
        60_000,
      );
      samples.push(performance.now() - pushed);
    }
    options.log(`federation: push to pullable, median ${median(samples)?.toFixed(0)} ms`);

    options.log(`federation: ${options.followers} followers follow A's repository`);
    await fake.followAll(
      `${a.url}/ap/inbox/repos/fan/app`,
      `${a.url}/ap/repos/fan/app`,
      async () => {
        await pushImage(a.url, "fan/app", "seed");
      },
    );
    await waitFor(
      "every follower accepted",
      async () => fake.count("Accept") >= options.followers,
      120_000,
    );
    const expected = options.followers * options.fanoutPushes;
    const before = fake.count("Create") + fake.count("Update");
    const t0 = performance.now();
    for (let i = 0; i < options.fanoutPushes; i++)
      await pushImage(a.url, "fan/app", `t${i}`, `fan-${i}-${Date.now()}`);
    await waitFor(
      `${expected} Notes delivered`,
      async () => fake.count("Create") + fake.count("Update") - before >= expected,
      300_000,
    );
    const seconds = (performance.now() - t0) / 1000;
    const rate = expected / seconds;
    const text = [
      "Federation (two Flotilla processes on loopback, IPFS off)",
      `  push on A -> pullable from B (mirror)   median ${median(samples)?.toFixed(0)} ms over ${samples.length} pushes (min ${Math.min(...samples).toFixed(0)}, max ${Math.max(...samples).toFixed(0)})`,
      `  Notes delivered to ${options.followers} followers        ${rate.toFixed(1)} Notes/s (${expected} Notes in ${seconds.toFixed(2)} s)`,
    ].join("\n");
    return {
      pushToPullableMs: samples,
      medianPushToPullableMs: median(samples),
      followers: options.followers,
      notesDelivered: expected,
      deliverySeconds: seconds,
      notesPerSecond: rate,
      text,
    };
  } finally {
    await Promise.allSettled(started.map((i) => i.dispose()));
    await fake.close();
  }
}

/** N follower actors on one local server, each with its own inbox, sharing one key. */
async function startFollowers(n: number) {
  const keys = (await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")) as webcrypto.CryptoKeyPair;
  const seen = new Map<string, number>();
  let base = "";
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = req.url ?? "";
    if (req.method === "POST" && url.startsWith("/inbox/")) {
      try {
        const type = String(
          (JSON.parse(Buffer.concat(chunks).toString()) as { type?: string }).type,
        );
        seen.set(type, (seen.get(type) ?? 0) + 1);
      } catch {
        // counted as nothing
      }
      res.writeHead(202).end();
      return;
    }
    const actor = /^\/actors\/(\d+)$/.exec(url);
    if (req.method === "GET" && actor) {
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(JSON.stringify(await person(Number(actor[1])).toJsonLd()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const person = (i: number) =>
    new Person({
      id: new URL(`${base}/actors/${i}`),
      preferredUsername: `fan${i}`,
      inbox: new URL(`${base}/inbox/${i}`),
      publicKey: new CryptographicKey({
        id: new URL(`${base}/actors/${i}#key`),
        owner: new URL(`${base}/actors/${i}`),
        publicKey: keys.publicKey,
      }),
    });
  return {
    count: (type: string) => seen.get(type) ?? 0,
    async followAll(inbox: string, object: string, prepare: () => Promise<void>) {
      await prepare();
      for (let i = 0; i < n; i++) {
        const follow = new Follow({
          id: new URL(`${base}/follows/${i}`),
          actor: new URL(`${base}/actors/${i}`),
          object: new URL(object),
        });
        const request = await signRequest(
          new Request(inbox, {
            method: "POST",
            headers: { "Content-Type": "application/activity+json" },
            body: JSON.stringify(await follow.toJsonLd()),
          }),
          keys.privateKey,
          new URL(`${base}/actors/${i}#key`),
          { spec: "draft-cavage-http-signatures-12" },
        );
        const res = await fetch(request);
        if (res.status !== 202) throw new Error(`follow ${i}: ${res.status} ${await res.text()}`);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      short: { type: "boolean", default: false },
      followers: { type: "string" },
      pushes: { type: "string" },
    },
  });
  const short = values.short === true;
  const result = await runFederationBench({
    pushes: values.pushes ? Number(values.pushes) : short ? 3 : 10,
    followers: values.followers ? Number(values.followers) : short ? 10 : 50,
    fanoutPushes: short ? 2 : 4,
    log: (m) => console.error(m),
  });
  console.log(result.text);
}
