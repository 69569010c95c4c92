// The replica announcement without a Redis: which config gives it its Redis settings, the admin URL it
// advertises (none for a wildcard bind without `advertise`), and what it shows when Redis cannot be reached
// (itself, marked stale, and the reason in words).

import { expect } from 'chai';
import { advertisedAdminUrl, redisSettingsOf, ReplicaRegistry } from '../../../pipeline/runtime/replicas';
import { freePort } from '../../helpers/ports';

const self = {
  id: 'r-1',
  pipelines: ['sample'],
  adminUrl: 'http://10.0.0.5:13133',
  version: '1.2.3',
  hostname: 'h',
  startedAt: 1,
};

describe('pipeline/runtime: replicas', () => {
  it('takes the Redis settings of the first tail_sampling processor with state redis', () => {
    const memory = [{ type: 'tail_sampling', config: { state: 'memory', redis: { url: 'redis://x' } } }];
    expect(redisSettingsOf(memory)).to.equal(undefined);
    expect(redisSettingsOf([{ type: 'otlp', config: {} }])).to.equal(undefined);
    expect(
      redisSettingsOf([
        { type: 'kafka', config: {} },
        {
          type: 'tail_sampling',
          config: { state: 'redis', redis: { url: 'redis://r:6380', key_prefix: 'p:', cluster_nodes: ['a:1'] } },
        },
      ]),
    ).to.deep.equal({ url: 'redis://r:6380', keyPrefix: 'p:', clusterNodes: ['a:1'] });
    const tls = { enabled: true, ca_file: '/ca.pem', cert_file: '', key_file: '', insecure_skip_verify: false };
    const sentinel = { master_name: 'm', nodes: ['s:26379'], password: 'sp' };
    expect(
      redisSettingsOf([
        {
          type: 'tail_sampling',
          config: {
            state: 'redis',
            redis: { url: 'redis://r', key_prefix: 't:', username: 'u', password_file: '/pw', tls, sentinel },
          },
        },
      ]),
    ).to.deep.equal({
      url: 'redis://r',
      keyPrefix: 't:',
      clusterNodes: [],
      username: 'u',
      passwordFile: '/pw',
      tls,
      sentinel,
    });
  });

  it('advertises the configured URL, else the bound address; a wildcard bind has none', () => {
    expect(advertisedAdminUrl('http://sampler-0.svc:13133/', { address: '0.0.0.0', port: 13133 })).to.equal(
      'http://sampler-0.svc:13133',
    );
    expect(advertisedAdminUrl('', { address: '127.0.0.1', port: 4000 })).to.equal('http://127.0.0.1:4000');
    expect(advertisedAdminUrl('', { address: '::1', port: 4000 })).to.equal('http://[::1]:4000');
    expect(advertisedAdminUrl('', { address: '0.0.0.0', port: 4000 })).to.equal(null);
    expect(advertisedAdminUrl('', { address: '::', port: 4000 })).to.equal(null);
    expect(advertisedAdminUrl('', undefined)).to.equal(null);
  });

  it('with Redis unreachable: lists itself, stale, and says why', async () => {
    const port = await freePort();
    const reg = new ReplicaRegistry({
      redis: { url: `redis://127.0.0.1:${port}`, clusterNodes: [], keyPrefix: 't:' },
      self: () => self,
      refreshMs: 100,
    });
    reg.start();
    await new Promise((r) => setTimeout(r, 300));
    const v = reg.view();
    await reg.stop();
    await reg.stop(); // idempotent
    if (!v.available) throw new Error('expected a list');
    expect(v.error).to.match(/^redis unreachable: /);
    expect(v.replicas.map((r) => [r.id, r.self, r.stale])).to.deep.equal([['r-1', true, true]]);
    expect(v.ttlMs).to.equal(300);
  });
});
