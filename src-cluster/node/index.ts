// The node service: the SSH server that runs users' shells on a Gatehouse node.
export { NodeSshServer, OPEN_ADMINISTRATIVELY_PROHIBITED } from './server.ts';
export type {
  AuthorizationDecision,
  ListeningAddress,
  Logger,
  NodeIdentity,
  NodeSshServerOptions,
  SessionAuthorizationRequest,
  SessionAuthorizer,
} from './types.ts';
