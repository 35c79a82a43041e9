export { presenceChallenge, PRESENCE_DOMAIN, type BoundPurpose } from './challenge.ts';
export {
  assertionOptions,
  PresenceRefused,
  recordAssertion,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
  type EnrolledCredential,
  type RecordedAssertion,
  type RelyingParty,
} from './ceremony.ts';
export { checkPresenceEvidence, type PresenceCheck, type PresenceEvidence, type RecordLike } from './offline.ts';
