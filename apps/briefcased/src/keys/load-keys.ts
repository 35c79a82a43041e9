import { KEY_ROLES, loadSigner, pinSecretName, type KeyRole, type Signer } from '@briefcase/keys';
import type { Vault } from '@briefcase/vault';

/**
 * Every role's key. A token's PIN comes from BRIEFCASE_PKCS11_PIN, else the vault secret
 * `pkcs11.pin.<token label>`, else a person at the terminal; never from a config file.
 */
export async function loadKeys(
  home: string,
  masterKey: Uint8Array,
  vault: Vault,
  askPin: ((tokenLabel: string) => Promise<string | undefined>) | undefined,
): Promise<Record<KeyRole, Signer>> {
  const asked = new Map<string, string | undefined>();
  const pin = async (location: { token_label: string }) => {
    const fromEnv = process.env.BRIEFCASE_PKCS11_PIN;
    if (fromEnv) return fromEnv;
    const fromVault = vault.get(pinSecretName(location.token_label))?.expose();
    if (fromVault) return fromVault;
    if (!askPin) return undefined;
    if (!asked.has(location.token_label)) asked.set(location.token_label, await askPin(location.token_label));
    return asked.get(location.token_label);
  };
  const keys: Partial<Record<KeyRole, Signer>> = {};
  try {
    for (const role of KEY_ROLES) keys[role] = await loadSigner(home, role, masterKey, pin);
  } catch (e) {
    for (const k of Object.values(keys)) k.close();
    throw e;
  }
  return keys as Record<KeyRole, Signer>;
}
