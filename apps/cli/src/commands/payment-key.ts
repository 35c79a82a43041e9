import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataPaths } from '@briefcase/briefcased/paths';
import { createPaymentKey, pinSecretName, readPaymentKey } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { loadMasterKey, Secret, Vault } from '@briefcase/vault';
import { print, printJson } from '../output.ts';
import { askHidden } from '../prompt.ts';
import type { KeysCreateFlags } from './keys.ts';

/**
 * `briefcase keys create --role payment`: the secp256k1 wallet key (docs/payments.md). It may be
 * made while the daemon runs (only the payment-helper opens it, on the first payment), and it is
 * never replaced: funds sit at its address.
 */
export async function paymentKeyCreate(paths: DataPaths, o: KeysCreateFlags, json: boolean): Promise<void> {
  if (o.backend !== 'software' && o.backend !== 'pkcs11') {
    throw new BriefcaseError('bad_request', `--backend must be software or pkcs11 (not "${o.backend}")`);
  }
  if (o.algorithm !== undefined && o.algorithm !== 'ES256K') {
    throw new BriefcaseError('bad_request', 'payment keys are secp256k1 (ES256K): leave out --algorithm');
  }
  const legacy = join(paths.home, 'payments', 'evm-wallet.json');
  if (!readPaymentKey(paths.home) && existsSync(legacy)) {
    throw new BriefcaseError(
      'conflict',
      `this data dir has a payment wallet from before the payment key role (${legacy}); it keeps working. To use a new key, move its funds out, remove that file, and run this again`,
    );
  }
  const needsMaster = o.backend === 'software' || o.savePin === true;
  const master = needsMaster
    ? await loadMasterKey(paths.home, { passphrase: process.env.BRIEFCASE_PASSPHRASE })
    : undefined;
  let location: { module: string; token_label: string; key_label: string } | undefined;
  let pin: string | undefined;
  if (o.backend === 'pkcs11') {
    if (!o.module || !o.token) throw new BriefcaseError('bad_request', 'give --module PATH and --token LABEL');
    location = { module: o.module, token_label: o.token, key_label: o.label ?? 'briefcase-payment' };
    pin = process.env.BRIEFCASE_PKCS11_PIN || (await askHidden(`PIN for PKCS#11 token "${o.token}": `));
  }
  const file = createPaymentKey(
    paths.home,
    location ? { backend: 'pkcs11', location, pin } : { backend: 'software', masterKey: master!.key },
  );
  if (location && o.savePin && pin) {
    Vault.open(paths.home, master!.key).set(
      pinSecretName(location.token_label),
      new Secret(pin),
      `PIN of the PKCS#11 token "${location.token_label}"`,
    );
  }
  const result = {
    role: 'payment',
    backend: file.backend,
    algorithm: file.algorithm,
    key_id: file.key_id,
    address: file.address,
    non_exportable: file.backend === 'pkcs11',
    ...(location && o.savePin ? { pin_saved_as: pinSecretName(location.token_label) } : {}),
  };
  if (json) return printJson(result);
  print(
    location
      ? `Created a non-exportable secp256k1 payment key on token "${location.token_label}": address ${file.address}.`
      : `Created a software secp256k1 payment key: address ${file.address}; it is exportable by anyone with the vault master key.`,
  );
  print('Fund that address with the tokens your grants allow (briefcase payments grant-create).');
}
