// OpenSSH keys and certificates for Gatehouse: wire format, key conversion, signing, verification.
export * from './types.ts';
export * from './wire.ts';
export * from './keys.ts';
export * from './cert.ts';
