import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { toBase64Url } from '@briefcase/crypto';
import { SoftAuthenticator } from '../../../test/lib/soft-authenticator.ts';
import {
  assertionOptions,
  checkPresenceEvidence,
  presenceChallenge,
  recordAssertion,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
  type BoundPurpose,
  type RelyingParty,
} from './index.ts';

const rp: RelyingParty = { id: 'localhost', name: 'Briefcase', origin: 'http://localhost:4100' };
const approve = (approval_id: string, call_hash: string): BoundPurpose => ({ kind: 'approve', approval_id, call_hash });

async function enrol(auth: SoftAuthenticator) {
  const challenge = randomBytes(32);
  const options = await registrationOptions(rp, { id: randomBytes(16), name: 'me' }, [], challenge);
  return verifyRegistration(rp, auth.register(options), challenge, rp.origin);
}

async function sign(auth: SoftAuthenticator, purpose: BoundPurpose, nonce = toBase64Url(randomBytes(16))) {
  const options = await assertionOptions(rp, [], presenceChallenge(purpose, nonce));
  return { nonce, assertion: recordAssertion(auth.assert(options)) };
}

describe('presence assertions', () => {
  it('the challenge commits to the purpose and the nonce', () => {
    const a = presenceChallenge(approve('ap1', 'h1'), 'n');
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, presenceChallenge(approve('ap2', 'h1'), 'n'));
    assert.notDeepEqual(a, presenceChallenge(approve('ap1', 'h2'), 'n'));
    assert.notDeepEqual(a, presenceChallenge(approve('ap1', 'h1'), 'm'));
    assert.deepEqual(a, presenceChallenge(approve('ap1', 'h1'), 'n'));
  });

  it('verifies a UV assertion for exactly its purpose, and refuses it for any other', async () => {
    const auth = new SoftAuthenticator(rp.origin);
    const cred = await enrol(auth);
    const purpose = approve('ap1', 'h1');
    const { nonce, assertion } = await sign(auth, purpose);
    await verifyAssertion(rp, assertion, cred, presenceChallenge(purpose, nonce));
    await assert.rejects(
      verifyAssertion(rp, assertion, cred, presenceChallenge(approve('ap1', 'other-call'), nonce)),
      /did not verify/,
    );
    await assert.rejects(
      verifyAssertion(rp, assertion, cred, presenceChallenge(purpose, 'another nonce')),
      /did not verify/,
    );
  });

  it('refuses an assertion without user verification, and a registration without it', async () => {
    const auth = new SoftAuthenticator(rp.origin);
    const cred = await enrol(auth);
    auth.userVerified = false;
    const purpose = approve('ap1', 'h1');
    const { nonce, assertion } = await sign(auth, purpose);
    await assert.rejects(verifyAssertion(rp, assertion, cred, presenceChallenge(purpose, nonce)), /user verif/i);
    await assert.rejects(enrol(auth), /user verif/i);
  });

  it('refuses an assertion from another origin or another passkey', async () => {
    const auth = new SoftAuthenticator(rp.origin);
    const cred = await enrol(auth);
    const purpose = approve('ap1', 'h1');
    const nonce = 'n1';
    const options = await assertionOptions(rp, [], presenceChallenge(purpose, nonce));
    const foreignOrigin = recordAssertion(auth.assert(options, { origin: 'http://localhost:9999' }));
    await assert.rejects(verifyAssertion(rp, foreignOrigin, cred, presenceChallenge(purpose, nonce)), /origin/i);
    const stranger = new SoftAuthenticator(rp.origin);
    const strangerCred = await enrol(stranger);
    const foreign = recordAssertion(stranger.assert(options));
    await assert.rejects(verifyAssertion(rp, foreign, cred, presenceChallenge(purpose, nonce)), /another passkey/);
    // Claiming to be the enrolled passkey while signing with another key fails the signature.
    await assert.rejects(
      verifyAssertion(rp, { ...foreign, credential_id: cred.credential_id }, cred, presenceChallenge(purpose, nonce)),
      /did not verify/,
    );
    assert.notEqual(strangerCred.credential_id, cred.credential_id);
  });

  it('offline: checks each recorded assertion against the passkeys enrolled earlier in the log', async () => {
    const auth = new SoftAuthenticator(rp.origin);
    const cred = await enrol(auth);
    const purpose = approve('ap1', 'h1');
    const { nonce, assertion } = await sign(auth, purpose);
    const enrolled = { seq: 1, kind: 'passkey', body: { event: 'enrolled', ...cred, rp_id: rp.id, origin: rp.origin } };
    const approved = {
      seq: 2,
      kind: 'approval',
      body: {
        event: 'approved',
        approval_id: 'ap1',
        call_hash: 'h1',
        presence: { purpose, nonce, rp_id: rp.id, origin: rp.origin, assertion },
      },
    };
    const consumed = { seq: 3, kind: 'approval', body: { event: 'consumed', approval_id: 'ap1', call_hash: 'h1' } };
    assert.deepEqual(await checkPresenceEvidence([enrolled, approved, consumed]), { assertions: 1, problems: [] });

    // The record claims another call than the one the person approved.
    const retargeted = { ...approved, body: { ...approved.body, call_hash: 'h2' } };
    const r1 = await checkPresenceEvidence([enrolled, retargeted]);
    assert.match(r1.problems[0]!, /record 2: the assertion was made for approval ap1 of call h1/);
    // Consumed by a different call than approved.
    const r2 = await checkPresenceEvidence([
      enrolled,
      approved,
      { ...consumed, body: { ...consumed.body, call_hash: 'h9' } },
    ]);
    assert.match(r2.problems[0]!, /consumed by call h9/);
    // The passkey was not enrolled first.
    const r3 = await checkPresenceEvidence([approved, enrolled]);
    assert.match(r3.problems[0]!, /was not enrolled/);
    // A removed passkey vouches for nothing after its removal.
    const removed = { seq: 2, kind: 'passkey', body: { event: 'removed', credential_id: cred.credential_id } };
    const r4 = await checkPresenceEvidence([enrolled, removed, { ...approved, seq: 3 }]);
    assert.match(r4.problems[0]!, /record 3: .*not enrolled/);
    // A flipped bit in the signature.
    const sig = Buffer.from(assertion.signature, 'base64url');
    sig[sig.length - 1]! ^= 1;
    const tampered = {
      ...approved,
      body: {
        ...approved.body,
        presence: { ...approved.body.presence, assertion: { ...assertion, signature: sig.toString('base64url') } },
      },
    };
    const r5 = await checkPresenceEvidence([enrolled, tampered]);
    assert.equal(r5.problems.length, 1);
  });
});
