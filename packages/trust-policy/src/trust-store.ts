import type { Certificate } from '@vouch/x509';

/** The three trust store types of the Notary trust store specification. */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/**
 * Where trusted certificates come from. `@vouch/node` reads notation's directory layout
 * (`truststore/x509/<type>/<name>/`); `memoryTrustStore()` holds them in memory.
 * (Contract shared with @vouch/notation and @vouch/node: extend by adding optional members.)
 */
export interface TrustStore {
  /**
   * Certificates of the named store. Throws VouchError ERR_TRUST_STORE_NOT_FOUND when the store
   * does not exist, ERR_TRUST_STORE_INVALID when it holds something not allowed.
   */
  getCertificates(type: TrustStoreType, name: string, options?: { signal?: AbortSignal }): Promise<readonly Certificate[]>;
}
