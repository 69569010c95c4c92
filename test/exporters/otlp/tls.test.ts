// TLS for the otlp exporter against local HTTPS and gRPC-over-TLS servers with a self-signed certificate:
// trusted through tls.ca_file, refused without it (retriably: a config problem must not drop data), and
// accepted with insecure_skip_verify.

import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TRACE_SERVICE_EXPORT_PATH } from '../../../pipeline/sdk/otlp';
import { factory } from '../../../exporters/otlp/factory';
import type { ExportError } from '../../../pipeline/sdk/exporterhelper/errors';
import {
  batchOf,
  chunkOf,
  newTraceId,
  resourceSpans,
  settings,
  span,
} from '../../pipeline/sdk/exporterhelper/fixtures';
import { selfSigned } from '../../pipeline/sdk/exporterhelper/tls-fixture';
import type { SelfSigned } from '../../pipeline/sdk/exporterhelper/tls-fixture';

const host = { reportFatalError() {} };
const noRetry = { enabled: false };
const oneBatch = () => {
  const traceId = newTraceId();
  return batchOf(chunkOf(traceId, [resourceSpans('tls-svc', [span({ traceId, name: 'x' })])]));
};

describe('exporters/otlp TLS', function () {
  this.timeout(20000);
  let tls: SelfSigned;
  before(() => {
    tls = selfSigned();
  });

  it('OTLP/HTTPS: trusts the server through ca_file, refuses it without, accepts it with insecure_skip_verify', async () => {
    let hits = 0;
    const srv = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        res.end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const endpoint = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      const trusted = factory.create(
        settings(),
        factory.configSchema.parse({ endpoint, tls: { ca_file: tls.certFile }, retry_on_failure: noRetry }),
      );
      await trusted.start(host);
      await trusted.consumeTraces(oneBatch());
      await trusted.shutdown();
      expect(hits).to.equal(1);

      const untrusted = factory.create(settings(), factory.configSchema.parse({ endpoint, retry_on_failure: noRetry }));
      const err = (await untrusted.consumeTraces(oneBatch()).catch((e: unknown) => e)) as ExportError;
      expect(err.retriable).to.equal(true);
      expect(err.message).to.match(/self-signed|self signed/i);
      await untrusted.shutdown();
      expect(hits).to.equal(1);

      const skip = factory.create(
        settings(),
        factory.configSchema.parse({ endpoint, tls: { insecure_skip_verify: true }, retry_on_failure: noRetry }),
      );
      await skip.consumeTraces(oneBatch());
      await skip.shutdown();
      expect(hits).to.equal(2);
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('OTLP/gRPC over TLS (https:// endpoint) with ca_file', async () => {
    const server = new grpc.Server();
    const id = (b: Buffer) => b;
    let hits = 0;
    server.addService(
      {
        Export: {
          path: TRACE_SERVICE_EXPORT_PATH,
          requestStream: false,
          responseStream: false,
          requestSerialize: id,
          requestDeserialize: id,
          responseSerialize: id,
          responseDeserialize: id,
        },
      },
      {
        Export: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => {
          hits++;
          cb(null, Buffer.alloc(0));
        },
      },
    );
    const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false);
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))),
    );
    try {
      const exp = factory.create(
        settings(),
        factory.configSchema.parse({
          protocol: 'grpc',
          endpoint: `https://127.0.0.1:${port}`,
          tls: { ca_file: tls.certFile },
          retry_on_failure: noRetry,
        }),
      );
      await exp.start(host);
      await exp.consumeTraces(oneBatch());
      await exp.shutdown();
      expect(hits).to.equal(1);

      const plain = factory.create(
        settings(),
        factory.configSchema.parse({
          protocol: 'grpc',
          endpoint: `127.0.0.1:${port}`,
          timeout: '1s',
          retry_on_failure: noRetry,
        }),
      );
      const err = (await plain.consumeTraces(oneBatch()).catch((e: unknown) => e)) as ExportError;
      expect(err.retriable).to.equal(true);
      await plain.shutdown();
      expect(hits).to.equal(1);
    } finally {
      server.forceShutdown();
    }
  });

  it('fails start when a TLS file cannot be read', async () => {
    const exp = factory.create(
      settings(),
      factory.configSchema.parse({ endpoint: 'https://127.0.0.1:1', tls: { ca_file: '/nonexistent/ca.pem' } }),
    );
    const err = await exp.start(host).catch((e: NodeJS.ErrnoException) => e.code);
    expect(err).to.equal('ENOENT');
    await exp.shutdown();
  });
});
