import { SOFTHSM_MODULE, softhsmMissing, softhsmToken } from './fixtures/tokens.ts';
import { describePkcs11Token } from './pkcs11-suite.ts';

describePkcs11Token(
  'PKCS#11 receipts key on SoftHSM (key-custody AC 1)',
  SOFTHSM_MODULE,
  softhsmMissing(),
  softhsmToken,
);
