export { BriefcaseOAuthProvider, MemoryOAuthStore, type OAuthStore, type ProviderOptions } from './provider.ts';
export * from './dpop/index.ts';
