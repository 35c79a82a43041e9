import type {
  Challenge,
  PaymentAuthorization,
  PaymentBackend,
  PaymentProof,
  PaymentRequirement,
  PendingPayment,
  Rail,
  RetryResponse,
  Settlement,
} from '@briefcase/payments';
import { BriefcaseError } from '@briefcase/protocol';

/**
 * A payment rail whose code (viem and @x402/* for x402, the LND client for L402) is imported on
 * first use: most daemons never see a 402, and importing the rails at start-up cost the daemon
 * ~25 MiB of resident memory (issue 13, docs/benchmarks.md). `load()` must have resolved before
 * `parse` (synchronous) is called: the payment step awaits it before it asks the flow to pay.
 * A rail never loaded holds no credential, so `credentialFor` answers nothing until it is.
 */
export class LazyRail implements PaymentBackend {
  readonly rail: Rail;
  readonly #import: () => Promise<PaymentBackend>;
  #loading: Promise<PaymentBackend> | undefined;
  #loaded: PaymentBackend | undefined;

  constructor(rail: Rail, load: () => Promise<PaymentBackend>) {
    this.rail = rail;
    this.#import = load;
  }

  load(): Promise<PaymentBackend> {
    this.#loading ??= this.#import().then(
      (b) => (this.#loaded = b),
      (e: unknown) => {
        this.#loading = undefined; // a failed import is retried on the next payment
        throw e;
      },
    );
    return this.#loading;
  }

  parse(challenge: Challenge): PaymentRequirement[] {
    if (!this.#loaded) throw new BriefcaseError('internal', `the ${this.rail} rail was used before it was loaded`);
    return this.#loaded.parse(challenge);
  }

  async pay(
    requirement: PaymentRequirement,
    authorization: PaymentAuthorization,
    record: (ref: string) => void,
  ): Promise<PaymentProof> {
    return (await this.load()).pay(requirement, authorization, record);
  }

  async confirm(proof: PaymentProof, response: RetryResponse): Promise<Settlement> {
    return (await this.load()).confirm(proof, response);
  }

  credentialFor(url: string): Readonly<Record<string, string>> | undefined {
    return this.#loaded?.credentialFor?.(url);
  }

  credentialRefused(url: string, headers: Readonly<Record<string, string>>): void {
    this.#loaded?.credentialRefused?.(url, headers);
  }

  async recover(pending: PendingPayment): Promise<Settlement> {
    return (await this.load()).recover(pending);
  }
}
