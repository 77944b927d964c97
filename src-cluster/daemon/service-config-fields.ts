// The fields every joined service with its own listener has in the daemon config (db_service,
// app_service): whether it runs, its inventory name, where proxies reach it and its listener's
// limits. One definition, so the sections cannot drift in names, defaults or messages.
import { z } from 'zod';
import { DEFAULT_HANDSHAKE_TIMEOUT } from '../limits/limits.ts';

export const hostPortField = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT');
// A time-out of 0 would mean "never": not offered, a limit must limit.
export const positiveTimeoutField = z
  .string()
  .regex(/^(\d+h)?(\d+m)?(\d+s)?$/, 'expected a duration such as 10s or 1m')
  .refine((s) => s.length > 0 && !/^(0+[hms])+$/.test(s), 'must be more than 0s');

/** The listener fields of a service section; `defaultMaxConnections` is per source address (per proxy). */
export function serviceListenerFields(defaultAddr: string, defaultMaxConnections: number) {
  return {
    enabled: z.boolean().default(false),
    // The service's name in the inventory; default: the node's name (the host name).
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)
      .optional(),
    listen_addr: hostPortField.default(defaultAddr),
    handshake_timeout: positiveTimeoutField.default(DEFAULT_HANDSHAKE_TIMEOUT),
    max_connections_per_ip: z.number().int().min(1).max(1_000_000).default(defaultMaxConnections),
  };
}
