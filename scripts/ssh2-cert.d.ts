// Types for the options that the vendored ssh2 (vendor/ssh2, VENDOR.md) adds to ssh2 1.17 (OpenSSH
// certificates, a per-channel window).
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
  interface ExecOptions {
    /** Client: the window granted on this channel (and the most its stream buffers), 64 KiB–8 MiB; default 8 MiB. */
    channelWindow?: number;
  }
  interface ShellOptions {
    /** Client: the window granted on this channel (and the most its stream buffers), 64 KiB–8 MiB; default 8 MiB. */
    channelWindow?: number;
  }
  interface EncryptedPrivateKey {
    /** Server hostKeys entry: OpenSSH host certificate for `key`. */
    certificate?: Buffer | string;
  }
}
