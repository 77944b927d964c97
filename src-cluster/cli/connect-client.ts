// What gatectl uses of Connect, imported by name. Why a module of its own: admin-client
// loads Connect on first use with import(), and a dynamic import of a package's whole namespace
// keeps every export it has in the bundle (the gRPC and gRPC-web transports, compression, the
// server adapter), which every gatectl command that makes an RPC then parses and evaluates.
export { Code, ConnectError, createClient } from '@connectrpc/connect';
export { createConnectTransport } from '@connectrpc/connect-node';
