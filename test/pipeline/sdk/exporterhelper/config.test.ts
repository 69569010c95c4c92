// Unit tests of the shared config fragments: defaults, units, and every cross-field check.

import { expect } from 'chai';
import { z } from 'zod';
import {
  checkDeadLetter,
  deadLetterFields,
  headersSchema,
  retryOnFailureSchema,
  sendingQueueSchema,
  tlsSchema,
} from '../../../../pipeline/sdk/exporterhelper/config';

const messages = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('pipeline/sdk/exporterhelper/config', () => {
  it('retry_on_failure defaults to 1s/30s/60s, x2, +-50%, enabled, and parses duration strings', () => {
    expect(retryOnFailureSchema.parse(undefined)).to.deep.equal({
      enabled: true,
      initial_interval: 1000,
      randomization_factor: 0.5,
      multiplier: 2,
      max_interval: 30000,
      max_elapsed_time: 60000,
    });
    expect(
      retryOnFailureSchema.parse({ initial_interval: '250ms', max_elapsed_time: '0', enabled: 'false' }),
    ).to.include({ initial_interval: 250, max_elapsed_time: 0, enabled: false });
  });

  it('retry_on_failure rejects max_interval < initial_interval, unknown keys and a zero initial interval', () => {
    expect(messages(retryOnFailureSchema.safeParse({ initial_interval: '5s', max_interval: '1s' }))).to.deep.equal([
      'max_interval: must be at least initial_interval (5000ms), got 1000ms',
    ]);
    expect(retryOnFailureSchema.safeParse({ max_elapsed: '1s' }).success).to.equal(false);
    expect(retryOnFailureSchema.safeParse({ initial_interval: 0 }).success).to.equal(false);
  });

  it('sending_queue defaults to 10 consumers, 1000 batches, no byte limit, 10s drain', () => {
    expect(sendingQueueSchema.parse(undefined)).to.deep.equal({
      enabled: true,
      num_consumers: 10,
      queue_size: 1000,
      queue_bytes: 0,
      drain_timeout: 10000,
    });
    expect(sendingQueueSchema.parse({ queue_bytes: '8MiB', num_consumers: '4' })).to.include({
      queue_bytes: 8 * 1024 * 1024,
      num_consumers: 4,
    });
  });

  it('sending_queue must stay bounded', () => {
    expect(messages(sendingQueueSchema.safeParse({ queue_size: 0 }))).to.deep.equal([
      'queue_size: the queue must be bounded: set queue_size or queue_bytes above 0',
    ]);
    expect(sendingQueueSchema.safeParse({ queue_size: 0, queue_bytes: '1MiB' }).success).to.equal(true);
    expect(sendingQueueSchema.safeParse({ num_consumers: 0 }).success).to.equal(false);
  });

  it('tls needs cert_file and key_file together', () => {
    expect(messages(tlsSchema.safeParse({ cert_file: '/x.pem' }))).to.deep.equal([
      'cert_file: cert_file and key_file must be set together',
    ]);
    expect(tlsSchema.parse(undefined).insecure_skip_verify).to.equal(false);
  });

  it('headers map names to strings', () => {
    expect(headersSchema.parse({ authorization: 'Bearer x' })).to.deep.equal({ authorization: 'Bearer x' });
    expect(headersSchema.safeParse({ n: 1 }).success).to.equal(false);
  });

  it('a dead_letter section needs brokers; brokers also come as a comma-separated string', () => {
    const s = z.object(deadLetterFields).strict().superRefine(checkDeadLetter);
    expect(messages(s.safeParse({ dead_letter: { topic: 'dlq' } }))).to.deep.equal([
      'dead_letter.brokers: required: an exporter has no Kafka settings of its own to write dead letters with',
    ]);
    const parsed = s.parse({ dead_letter: { topic: 'dlq', brokers: '127.0.0.1:9092, 127.0.0.1:9093' } });
    expect(parsed.dead_letter?.brokers).to.deep.equal(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(s.parse({})).to.deep.equal({});
  });
});
