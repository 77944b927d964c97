// Types for the options that the vendored ssh2 (vendor/ssh2, VENDOR.md) adds to ssh2 1.17 (OpenSSH certificates).
// `certificate` is the certificate blob (Buffer) or the text of a "*-cert.pub" line.
import 'ssh2';

declare module 'ssh2' {
  interface ConnectConfig {
    /** Client: OpenSSH user certificate for `privateKey`. */
    certificate?: Buffer | string;
  }
  interface PublicKeyAuthMethod {
    /** Client authHandler entry: OpenSSH user certificate for `key`. */
    certificate?: Buffer | string;
  }
  interface EncryptedPrivateKey {
    /** Server hostKeys entry: OpenSSH host certificate for `key`. */
    certificate?: Buffer | string;
  }
}
