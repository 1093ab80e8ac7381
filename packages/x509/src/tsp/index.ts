/**
 * `@vouch/x509/tsp`: RFC 3161 timestamps for Notary signatures. Build a TimeStampReq,
 * send it to a TSA over an injected fetch, decode the reply, and verify a
 * TimeStampToken (CMS SignedData over TSTInfo) against trusted TSA roots with the Notary
 * timestamping certificate profile. Runs in browsers, Deno, Bun and Node (WebCrypto).
 *
 * @packageDocumentation
 */

// Requesting a timestamp from a TSA
export { createTimestampRequest, parseTimestampResponse, requestTimestamp, validateTimestampResponse } from './request.js';

// Reading and verifying timestamp tokens
export { parseTimestampToken, timestampRange } from './token.js';
// Types
export type {
  CreateTimestampRequestOptions,
  RequestTimestampOptions,
  TimestampAccuracy,
  TimestampRange,
  TimestampRequest,
  TimestampRequestInfo,
  TimestampResponse,
  TimestampStatus,
  TimestampToken,
  VerifiedTimestamp,
  VerifyTimestampOptions,
} from './types.js';
export { verifyTimestampToken } from './verify.js';
