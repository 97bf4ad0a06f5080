/**
 * A fake remote server for federation tests: a repository actor (a Service, as a Flotilla would
 * serve it) and a second actor with its own key, on a tiny HTTP server on loopback. It signs what
 * it sends with Fedify's `signRequest`, so the instance under test verifies it like any peer.
 */

import type { webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateCryptoKeyPair, signRequest } from "@fedify/fedify";
import {
  type Activity,
  CryptographicKey,
  Endpoints,
  Person,
  PropertyValue,
  Service,
} from "@fedify/vocab";

type KeyPair = webcrypto.CryptoKeyPair;

export interface FakePeer {
  url: string;
  host: string;
  /** The repository actor (`<url>/actor`) and its key id. */
  actorId: string;
  keyId: string;
  /** Another actor (`<url>/eve`) with another key. */
  eveId: string;
  eveKeyId: string;
  /** JSON bodies posted to the peer's inbox. */
  received: Array<Record<string, unknown>>;
  /** Requests the peer saw, as "METHOD path". */
  requests: string[];
  /** POSTs an activity to `inbox`, signed by the actor's key (or `as: "eve"`, or unsigned). */
  send(
    inbox: string,
    activity: Activity,
    options?: { as?: "actor" | "eve" | "none"; keyId?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startFakePeer(): Promise<FakePeer> {
  const actorKeys = (await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")) as KeyPair;
  const eveKeys = (await generateCryptoKeyPair("RSASSA-PKCS1-v1_5")) as KeyPair;
  const received: Array<Record<string, unknown>> = [];
  const requests: string[] = [];
  let base = "";
  const documents = new Map<string, () => Promise<unknown>>();
  const server: Server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method === "POST" && req.url === "/inbox") {
      try {
        received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        // recorded as seen only
      }
      res.writeHead(202).end();
      return;
    }
    const document = documents.get(req.url ?? "");
    if (req.method === "GET" && document) {
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(JSON.stringify(await document()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  const actorId = `${base}/actor`;
  const eveId = `${base}/eve`;
  const keyId = `${actorId}#main-key`;
  const eveKeyId = `${eveId}#main-key`;
  const actor = new Service({
    id: new URL(actorId),
    preferredUsername: "app",
    name: "mallory/app",
    inbox: new URL(`${base}/inbox`),
    endpoints: new Endpoints({ sharedInbox: new URL(`${base}/inbox`) }),
    publicKey: new CryptographicKey({
      id: new URL(keyId),
      owner: new URL(actorId),
      publicKey: actorKeys.publicKey,
    }),
    attachments: [
      new PropertyValue({ name: "registry", value: base }),
      new PropertyValue({ name: "repository", value: "mallory/app" }),
    ],
  });
  const eve = new Person({
    id: new URL(eveId),
    preferredUsername: "eve",
    inbox: new URL(`${base}/inbox`),
    publicKey: new CryptographicKey({
      id: new URL(eveKeyId),
      owner: new URL(eveId),
      publicKey: eveKeys.publicKey,
    }),
  });
  documents.set("/actor", () => actor.toJsonLd());
  documents.set("/eve", () => eve.toJsonLd());

  return {
    url: base,
    host: `127.0.0.1:${port}`,
    actorId,
    keyId,
    eveId,
    eveKeyId,
    received,
    requests,
    async send(inbox, activity, options = {}) {
      const body = JSON.stringify(await activity.toJsonLd({ format: "compact" }));
      let request = new Request(inbox, {
        method: "POST",
        headers: {
          "Content-Type": "application/activity+json",
          Accept: "application/activity+json",
        },
        body,
      });
      const as = options.as ?? "actor";
      if (as !== "none") {
        const keys = as === "eve" ? eveKeys : actorKeys;
        request = await signRequest(
          request,
          keys.privateKey,
          new URL(options.keyId ?? (as === "eve" ? eveKeyId : keyId)),
          {
            spec: "draft-cavage-http-signatures-12",
          },
        );
      }
      return fetch(request);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
