// A throwaway CA-less self-signed certificate for 127.0.0.1/localhost, made with the openssl CLI into a
// temporary directory, for the TLS tests of the exporters.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** SelfSigned holds the PEM files' paths and contents. */
export interface SelfSigned {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** selfSigned creates a certificate valid for localhost and 127.0.0.1 (needs `openssl` on PATH). */
export function selfSigned(): SelfSigned {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tusk-tls-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
}
