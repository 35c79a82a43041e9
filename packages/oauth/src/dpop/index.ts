export { createProof, htuOf, accessTokenHash, type DpopKey, type ProofClaims } from './proof.ts';
export { dpopFetch, type DpopFetchOptions, type Fetch } from './fetch.ts';
export { DpopVerifier, type DpopError, type VerifyRequest } from './verify.ts';
