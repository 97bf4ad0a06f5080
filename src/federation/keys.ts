/**
 * Each actor's two key pairs, made on first use and kept in the database: RSA for HTTP signatures
 * (what Mastodon checks) and Ed25519 for object integrity proofs (claims that stay verifiable).
 */
import type { webcrypto } from "node:crypto";
import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import type { SqliteDatabase } from "../meta/index.ts";

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const algorithms = ["RSASSA-PKCS1-v1_5", "Ed25519"] as const;

/**
 * RSA keys are 2048 bits, what Mastodon makes: Fedify's default of 4096 costs seconds of CPU per
 * actor on a small machine, for no interoperability gain.
 */
async function generate(algorithm: (typeof algorithms)[number]): Promise<CryptoKeyPair> {
  if (algorithm === "Ed25519") return generateCryptoKeyPair("Ed25519");
  return (await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
}

export class ActorKeys {
  readonly #db: SqliteDatabase;
  readonly #cache = new Map<string, Promise<CryptoKeyPair[]>>();

  constructor(database: SqliteDatabase) {
    this.#db = database;
  }

  /** The actor's key pairs, RSA first; created and stored when the actor has none yet. */
  pairsOf(actor: string): Promise<CryptoKeyPair[]> {
    let pairs = this.#cache.get(actor);
    if (!pairs) {
      pairs = this.#load(actor);
      this.#cache.set(actor, pairs);
      pairs.catch(() => this.#cache.delete(actor));
    }
    return pairs;
  }

  async #load(actor: string): Promise<CryptoKeyPair[]> {
    const pairs: CryptoKeyPair[] = [];
    for (const algorithm of algorithms) {
      const row = this.#db
        .sql(
          "SELECT private_jwk, public_jwk FROM federation_keys WHERE actor = ? AND algorithm = ?",
        )
        .get(actor, algorithm);
      if (row) {
        pairs.push({
          privateKey: await importJwk(JSON.parse(String(row.private_jwk)), "private"),
          publicKey: await importJwk(JSON.parse(String(row.public_jwk)), "public"),
        });
        continue;
      }
      const pair = await generate(algorithm);
      // Two requests for a new actor may race: the first stored key wins, the loser reads it back.
      this.#db
        .sql(
          `INSERT OR IGNORE INTO federation_keys (actor, algorithm, private_jwk, public_jwk, created_at)
           VALUES (?, ?, ?, ?, ?)`,
        )
        .run(
          actor,
          algorithm,
          JSON.stringify(await exportJwk(pair.privateKey)),
          JSON.stringify(await exportJwk(pair.publicKey)),
          Date.now(),
        );
      const stored = this.#db
        .sql(
          "SELECT private_jwk, public_jwk FROM federation_keys WHERE actor = ? AND algorithm = ?",
        )
        .get(actor, algorithm);
      pairs.push({
        privateKey: await importJwk(JSON.parse(String(stored?.private_jwk)), "private"),
        publicKey: await importJwk(JSON.parse(String(stored?.public_jwk)), "public"),
      });
    }
    return pairs;
  }
}
