// What the cluster API's read calls report, as ClusterClient hands it to `gate`, the app and the
// browser host: plain data, no connection. Apart from cluster-client.ts so that file stays about
// connections and calls.

/** A database as ListDatabases reports it (protocol as the cluster sent it: "postgres" | "mysql"). */
export interface DatabaseInfo {
  name: string;
  protocol: string;
  description: string;
  uri: string;
  labels: Record<string, string>;
  allowedDbUsers: string[];
  allowedDbNames: string[];
}

/** An app as ListApps reports it (kind as the cluster sent it: "http" | "tcp"). */
export interface AppInfo {
  name: string;
  kind: string;
  description: string;
  /** The upstream the app service reaches (informational). */
  uri: string;
  /** spec.public_addr, "" when unset (informational). */
  publicAddr: string;
  labels: Record<string, string>;
}

export interface PingInfo {
  clusterName: string;
  serverVersion: string;
  authType: string;
  /** "off" or "otp". */
  secondFactor: string;
  deviceTrustMode: string;
  proxyPublicAddr: string;
}

export interface Identity {
  user: string;
  roles: string[];
  logins: string[];
  validUntil: Date;
}

export interface NodeInfo {
  name: string;
  address: string;
  hostname: string;
  labels: Record<string, string>;
}
