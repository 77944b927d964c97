// The version every service reports (ping, heartbeats, `gatehouse version`): one constant so the
// auth, proxy and node compositions cannot drift apart.
export const VERSION = '0.1.0';
