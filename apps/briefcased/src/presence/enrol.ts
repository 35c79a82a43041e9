import { DEFAULT_POLICY, presenceDefaultPolicy } from '@briefcase/policy';
import type { Services } from '../daemon.ts';
import { applyPolicy } from '../admin/policy.ts';
import { transaction } from '../store/db.ts';
import type { RegistrationGrant } from './presence.ts';

/**
 * After a registration verified: store the passkey, receipt it with its public key (so an export
 * lets anyone check later assertions offline), and on the first one show recovery codes and move
 * the default policy's write tools and large payments to the presence tier.
 */
export function enrolPasskey(
  s: Services,
  passkey: Parameters<Services['presence']['passkeys']['add']>[0],
  grant: RegistrationGrant,
): { recovery_codes?: string[]; policy_note?: string } {
  const first = !s.presence.enrolled();
  let codes: string[] | undefined;
  transaction(s.db, () => {
    s.presence.passkeys.add(passkey);
    s.receipts.append('passkey', 'admin', {
      event: 'enrolled',
      credential_id: passkey.credential_id,
      public_key: passkey.public_key,
      label: passkey.label,
      rp_id: passkey.rp_id,
      origin: passkey.origin,
      via: typeof grant === 'string' ? grant : `operation ${grant.operation}`,
    });
    if (first || grant === 'recovery') {
      codes = s.presence.passkeys.newRecoveryCodes(passkey.created_at);
      s.receipts.append('passkey', 'admin', { event: 'recovery_codes_issued', count: codes.length });
    }
  });
  s.events.emit('event', { type: 'passkeys', count: s.presence.passkeys.count() });
  s.logger.info('passkey enrolled', { label: passkey.label });
  if (!first) return codes ? { recovery_codes: codes } : {};
  let note: string;
  if (s.policy.engine.text === DEFAULT_POLICY) {
    applyPolicy(s, presenceDefaultPolicy(), { reason: 'first passkey: write tools and large payments need a passkey' });
    note =
      'Write tools and payments above the threshold now need your passkey (the default policy moved them from "local" to "presence"). ' +
      'Everything that widens what an agent can do (policy, budget caps, remote servers, connectors, keys, passkeys) now needs it too.';
  } else {
    note =
      'Your policy is your own, so it was left as it is: rules marked @approval("local") can still be approved from the CLI. ' +
      'Change them to @approval("presence") to require your passkey. Everything that widens what an agent can do now needs it.';
  }
  return { ...(codes ? { recovery_codes: codes } : {}), policy_note: note };
}
