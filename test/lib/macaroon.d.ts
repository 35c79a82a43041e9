/** The parts of `macaroon` 3.0.4 (no bundled types) the L402 test server uses. */
declare module 'macaroon' {
  export interface Macaroon {
    readonly identifier: Uint8Array;
    readonly location: string;
    addFirstPartyCaveat(caveatId: string | Uint8Array): void;
    exportBinary(): Uint8Array;
    /** Throws when the signature chain or a caveat does not verify; `check` returns an error or null. */
    verify(rootKey: Uint8Array, check: (caveat: string | Uint8Array) => string | null, discharges?: Macaroon[]): void;
  }
  export function newMacaroon(params: {
    identifier: Uint8Array | string;
    location?: string;
    rootKey: Uint8Array | string;
    version?: 1 | 2;
  }): Macaroon;
  export function importMacaroon(obj: string | Uint8Array): Macaroon;
  export function bytesToBase64(bytes: Uint8Array): string;
}
