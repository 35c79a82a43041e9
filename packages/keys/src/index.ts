export type { Signer, KeyRole } from './signer.ts';
export { SoftwareSigner, readPublicKey, readPublicKeys, keyFilePath, type RetiredKey } from './software-signer.ts';
