export type { Signer, KeyRole } from './signer.ts';
export {
  SoftwareSigner,
  readPublicKey,
  readPublicKeys,
  readStoredKey,
  keyFilePath,
  type RetiredKey,
  type StoredKey,
} from './software-signer.ts';
export { Pkcs11Signer, type Pkcs11Location } from './pkcs11-signer.ts';
export { loadSigner, createPkcs11Key } from './key-file.ts';
