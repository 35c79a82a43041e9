export { L402Backend, L402_ASSET, type L402BackendOptions } from './backend.ts';
export { parseL402Challenge, authorizationValue, type L402Offer } from './challenge.ts';
export { decodeInvoice, checkInvoice, LIGHTNING_NETWORKS, type DecodedInvoice } from './invoice.ts';
export { sendPayment, trackPayment, type LndConfig, type LndPayment } from './lnd.ts';
export { l402Fetch, type L402FetchDeps, type L402FetchResult, type Retry } from './client.ts';
export { TokenCache, serviceOf } from './tokens.ts';
export type { SecretValue } from './redacted.ts';
export { L402ConfigSchema, parseL402Config, l402BackendFromConfig, type L402Config } from './config.ts';
