import { TPM_MODULE, tpmMissing, tpmToken } from './fixtures/tokens.ts';
import { describePkcs11Token } from './pkcs11-suite.ts';

/** The TPM behind PKCS#11: the same checks, through tpm2-pkcs11 on a software TPM (swtpm). */
describePkcs11Token(
  'PKCS#11 receipts key on a TPM 2.0 (swtpm + tpm2-pkcs11; key-custody AC 2)',
  TPM_MODULE,
  tpmMissing(),
  tpmToken,
);
