export type { Signer, KeyRole } from './signer.ts';
export { SoftwareSigner, readPublicKey, keyFilePath } from './software-signer.ts';
