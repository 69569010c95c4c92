// The client TLS config fragment shared by every component that connects out: the exporters' `tls`
// section (pipeline/sdk/exporterhelper/config.ts), the Kafka client's (pipeline/sdk/kafka/client.ts) and the
// Redis client's (pipeline/sdk/redis-client.ts). Each spreads the fields into its own strict schema and
// refines it with checkClientTls, so keys, defaults and checks are the same everywhere.

import { z } from 'zod';
import { bool } from './config-types';

/**
 * clientTlsFields are the keys of a client `tls` section:
 * - `ca_file`: PEM bundle of CAs to trust instead of the system ones. Default '' = system CAs.
 * - `cert_file` / `key_file`: client certificate and key for mutual TLS. Default '' = none. Both or neither.
 * - `insecure_skip_verify` (default false): accept any server certificate. For tests only.
 * - `server_name_override`: the name checked against the certificate. Default '' = the host connected to.
 */
export const clientTlsFields = {
  ca_file: z.string().default(''),
  cert_file: z.string().default(''),
  key_file: z.string().default(''),
  insecure_skip_verify: bool().default(false),
  server_name_override: z.string().default(''),
};

/** checkClientTls adds an issue when only one of `cert_file` and `key_file` is set. */
export function checkClientTls(c: { cert_file: string; key_file: string }, ctx: z.RefinementCtx): void {
  if ((c.cert_file === '') !== (c.key_file === '')) {
    ctx.addIssue({ code: 'custom', path: ['cert_file'], message: 'cert_file and key_file must be set together' });
  }
}
