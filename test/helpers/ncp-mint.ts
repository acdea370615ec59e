/**
 * Mints an NKS token from raw inputs the way every caller does: the key made into a signer and the
 * cluster parsed (both once, at the edge), then mintNcpToken. For tests that mint one token per input.
 */
import type { MintedToken } from "../../src/cluster-info.js";
import type { TimeInput } from "../../src/lib/time.js";
import { createNcpSigner } from "../../src/ncp/sign.js";
import { mintNcpToken, parseNcpTokenTarget } from "../../src/ncp/token.js";

/** The raw inputs of one NKS token. */
export interface RawNcpMint {
  accessKey: string;
  secretKey: string;
  clusterUuid: string;
  region: string;
  now?: TimeInput;
}

/** `mintNcpToken` over a signer and a target made from `input`. */
export function mintFor(input: RawNcpMint): MintedToken {
  return mintNcpToken({
    signer: createNcpSigner(input),
    cluster: parseNcpTokenTarget(input),
    ...(input.now === undefined ? {} : { now: input.now }),
  });
}
