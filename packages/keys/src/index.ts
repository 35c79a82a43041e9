export {
  DEFAULT_ALGORITHM,
  KEY_ALGORITHMS,
  KEY_ROLES,
  isKeyRole,
  type KeyAlgorithm,
  type KeyBackend,
  type KeyRole,
  type Signer,
  type StoredRole,
} from './signer.ts';
export {
  hasStoredKey,
  keyFilePath,
  readPublicKey,
  readPublicKeys,
  readStoredKey,
  type Pkcs11Location,
  type PublicKeyEntry,
  type RetiredKey,
  type StoredKey,
} from './key-store.ts';
export { SoftwareSigner } from './software-signer.ts';
export { Pkcs11Signer, pinSecretName, type Pkcs11Curve } from './pkcs11-signer.ts';
export { createKey, loadSigner, type KeySpec, type PinSource } from './key-file.ts';
export {
  createPaymentKey,
  evmAddress,
  openPaymentSigner,
  paymentKeyPath,
  readPaymentKey,
  recoverable,
  type PaymentKeyFile,
  type PaymentKeySpec,
  type PaymentSigner,
} from './payment-key.ts';
