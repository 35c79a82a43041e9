import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { fromBase64Url, toBase64Url } from '@briefcase/crypto';

/**
 * @simplewebauthn/server (and its ASN.1 and X.509 dependencies) on the first ceremony only: the
 * daemon imports this package at start-up, and most daemons never see a passkey; eagerly it was
 * ~8 MiB of the daemon's resident memory (issue 13, docs/benchmarks.md § Memory).
 */
const webauthn = () => import('@simplewebauthn/server');

/**
 * The WebAuthn ceremonies, through @simplewebauthn/server. User verification is required in both
 * directions: a passkey that only proves someone touched a key (no PIN, no biometric) is refused.
 */

export interface RelyingParty {
  /** `localhost` for the local console (WebAuthn needs a domain, not an IP). */
  id: string;
  name: string;
  /** The only origin assertions may come from, e.g. `http://localhost:38080`. */
  origin: string;
}

/** An enrolled passkey: what verification needs. `public_key` is the COSE key, base64url. */
export interface EnrolledCredential {
  credential_id: string;
  public_key: string;
  counter: number;
}

export class PresenceRefused extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'PresenceRefused';
    this.reason = reason;
  }
}

export async function registrationOptions(
  rp: RelyingParty,
  user: { id: Uint8Array; name: string },
  exclude: string[],
  challenge: Uint8Array,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return (await webauthn()).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: user.id as Uint8Array<ArrayBuffer>,
    userName: user.name,
    challenge: challenge as Uint8Array<ArrayBuffer>,
    attestationType: 'none',
    excludeCredentials: exclude.map((id) => ({ id })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs: [-7, -8, -257],
  });
}

export async function verifyRegistration(
  rp: RelyingParty,
  response: unknown,
  challenge: Uint8Array,
  origin: string,
): Promise<EnrolledCredential & { uv: boolean }> {
  let result;
  try {
    result = await (
      await webauthn()
    ).verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: toBase64Url(challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
    });
  } catch (e) {
    throw new PresenceRefused(`the passkey registration did not verify: ${(e as Error).message}`);
  }
  if (origin !== rp.origin) throw new PresenceRefused(`registration from ${origin}, not ${rp.origin}`);
  if (!result.verified) throw new PresenceRefused('the passkey registration did not verify');
  const { credential, userVerified } = result.registrationInfo;
  if (!userVerified) throw new PresenceRefused('the authenticator did not verify the user (no PIN or biometric)');
  return {
    credential_id: credential.id,
    public_key: toBase64Url(credential.publicKey),
    counter: credential.counter,
    uv: userVerified,
  };
}

export async function assertionOptions(
  rp: RelyingParty,
  allow: string[],
  challenge: Uint8Array,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return (await webauthn()).generateAuthenticationOptions({
    rpID: rp.id,
    challenge: challenge as Uint8Array<ArrayBuffer>,
    allowCredentials: allow.map((id) => ({ id })),
    userVerification: 'required',
    timeout: 120_000,
  });
}

/** The parts of an assertion a receipt keeps, enough to check it again offline. */
export interface RecordedAssertion {
  credential_id: string;
  authenticator_data: string;
  client_data_json: string;
  signature: string;
  user_handle?: string | undefined;
}

export function recordAssertion(response: unknown): RecordedAssertion {
  const r = response as AuthenticationResponseJSON;
  if (typeof r?.id !== 'string' || typeof r.response !== 'object' || r.response === null) {
    throw new PresenceRefused('not a WebAuthn assertion');
  }
  const { authenticatorData, clientDataJSON, signature, userHandle } = r.response;
  for (const [name, v] of Object.entries({ authenticatorData, clientDataJSON, signature })) {
    if (typeof v !== 'string' || v.length > 64 * 1024) throw new PresenceRefused(`assertion field ${name} is missing`);
  }
  return {
    credential_id: r.id,
    authenticator_data: authenticatorData,
    client_data_json: clientDataJSON,
    signature,
    ...(typeof userHandle === 'string' ? { user_handle: userHandle } : {}),
  };
}

/**
 * Check an assertion: made for exactly `challenge`, at `rp` from its origin, with user
 * verification, signed by `credential`. Works the same online and offline (from a receipt).
 * Counters are not relied on for replay (synced passkeys send 0): single use comes from the
 * challenge, which the daemon forgets once used.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  assertion: RecordedAssertion,
  credential: EnrolledCredential,
  challenge: Uint8Array,
): Promise<{ newCounter: number }> {
  if (assertion.credential_id !== credential.credential_id) {
    throw new PresenceRefused('the assertion is from another passkey');
  }
  const response: AuthenticationResponseJSON = {
    id: assertion.credential_id,
    rawId: assertion.credential_id,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      authenticatorData: assertion.authenticator_data,
      clientDataJSON: assertion.client_data_json,
      signature: assertion.signature,
      ...(assertion.user_handle ? { userHandle: assertion.user_handle } : {}),
    },
  };
  let result;
  try {
    result = await (
      await webauthn()
    ).verifyAuthenticationResponse({
      response,
      expectedChallenge: toBase64Url(challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: credential.credential_id,
        publicKey: fromBase64Url(credential.public_key) as Uint8Array<ArrayBuffer>,
        counter: credential.counter,
      },
      requireUserVerification: true,
    });
  } catch (e) {
    throw new PresenceRefused(`the assertion did not verify: ${(e as Error).message}`);
  }
  if (!result.verified) throw new PresenceRefused('the assertion did not verify');
  if (!result.authenticationInfo.userVerified) {
    throw new PresenceRefused('the authenticator did not verify the user (no PIN or biometric)');
  }
  return { newCounter: result.authenticationInfo.newCounter };
}
