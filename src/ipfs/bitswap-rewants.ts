/**
 * Makes a block wanted again get sent again, on both sides of @helia/bitswap 4.0.x.
 *
 * Asking side: a block that arrived flags its want "cancel", and the flagged want is removed only
 * when the next (debounced) wantlist update goes out. A new want of the same block in between
 * (a retry right after a fetch that was not kept) reuses the flagged entry, which that update
 * then drops without sending: the want is never sent. Here a flagged entry is removed first, so
 * the new want is a new entry and goes out.
 *
 * Answering side: it keeps a want it answered as "sent" in the peer's ledger for a while (5 s),
 * and its requesting side never sends cancels (`sendMessages` skips them), so the entry is not
 * removed when the peer got the block. A second want of the same block from that peer (a retried
 * pull, a blob fetched again after a failed digest check, content not kept the first time) finds
 * the "sent" entry and is dropped; the expired entry is removed only after that message was
 * handled, so the want is lost and the peer waits until its block timeout. Before a message is
 * handled, this forgets the "sent" entries of the blocks it wants again, so they are sent again.
 */
import type { PeerId } from "@libp2p/interface";
import { CID } from "multiformats/cid";

/** The parts of @helia/bitswap's internals this touches (checked at start, see below). */
interface LedgerWant {
  cid: CID;
  status: "want" | "sending" | "sent";
}
interface Ledger {
  wants: Map<string, LedgerWant>;
}
interface WantlistMessage {
  wantlist?: { entries: Array<{ cid: Uint8Array; cancel?: boolean }> };
}
interface WantList {
  wants: Map<string, { cancel: boolean }>;
  peers: Map<string, Set<string>>;
  addEntry(cid: CID, options: unknown): Promise<unknown>;
}
interface PeerWantLists {
  ledgerMap: { get(peer: PeerId): Ledger | undefined };
  receiveMessage(peer: PeerId, message: WantlistMessage): void;
}

export class BitswapInternalsError extends Error {
  constructor(what: string) {
    super(`@helia/bitswap internals changed (${what}); repeated wants may go unanswered`);
    this.name = "BitswapInternalsError";
  }
}

/**
 * Installs both fixes on a started Helia node's bitswap; throws BitswapInternalsError when the
 * library no longer looks as expected (an upgrade must revisit this).
 */
export function answerRepeatedWants(helia: object): void {
  const brokers = (helia as { blockBrokers?: unknown }).blockBrokers as
    | Array<{ name?: string; bitswap?: unknown }>
    | undefined;
  const broker = brokers?.find((b) => b.name === "bitswap");
  const wantLists = (broker?.bitswap as { peerWantLists?: PeerWantLists } | undefined)
    ?.peerWantLists;
  if (!wantLists || typeof wantLists.receiveMessage !== "function" || !wantLists.ledgerMap) {
    throw new BitswapInternalsError("no peerWantLists.receiveMessage");
  }
  const wantList = (broker?.bitswap as { wantList?: WantList } | undefined)?.wantList;
  if (!wantList || typeof wantList.addEntry !== "function" || !wantList.wants || !wantList.peers) {
    throw new BitswapInternalsError("no wantList.addEntry");
  }
  const addEntry = wantList.addEntry.bind(wantList);
  wantList.addEntry = (cid, options) => {
    const key = keyOf(cid);
    if (wantList.wants.get(key)?.cancel) {
      wantList.wants.delete(key);
      for (const sent of wantList.peers.values()) sent.delete(key);
    }
    return addEntry(cid, options);
  };
  const receive = wantLists.receiveMessage.bind(wantLists);
  wantLists.receiveMessage = (peer, message) => {
    forgetSentWants(wantLists.ledgerMap.get(peer), message);
    receive(peer, message);
  };
}

/** Drops the ledger's "sent" entries for the blocks `message` wants. */
export function forgetSentWants(ledger: Ledger | undefined, message: WantlistMessage): void {
  const entries = message.wantlist?.entries;
  if (!ledger || !entries?.length) return;
  for (const entry of entries) {
    if (entry.cancel) continue;
    let wanted: CID;
    try {
      wanted = CID.decode(entry.cid);
    } catch {
      continue;
    }
    const key = keyOf(wanted);
    if (ledger.wants.get(key)?.status === "sent") ledger.wants.delete(key);
  }
}

/** Bitswap keys wants by the CID's multihash in unpadded base64. */
function keyOf(cid: CID): string {
  return Buffer.from(cid.multihash.bytes).toString("base64").replace(/=+$/, "");
}
