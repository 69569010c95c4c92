// The shared Redis client settings: config -> ioredis options (server, Cluster, Sentinel; TLS, ACL user,
// password files), the cross-field checks, the target shown in logs and the one-line error descriptions.

import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import {
  checkRedisConnection,
  createRedisClient,
  describeRedisError,
  redisClientPlan,
  redisConnectionFields,
  redisTarget,
  type RedisClientTuning,
  type RedisConnectionConfig,
} from '../../../pipeline/sdk/redis-client';

const schema = z.object(redisConnectionFields).strict().superRefine(checkRedisConnection);
const parse = (raw: unknown): RedisConnectionConfig => schema.parse(raw);
const TUNING: RedisClientTuning = { connectTimeoutMs: 1500, commandTimeoutMs: 700, retryDelayMs: (n) => n * 10 };
const FILES: Record<string, string> = {
  '/ca.pem': 'CA PEM',
  '/cert.pem': 'CERT PEM',
  '/key.pem': 'KEY PEM',
  '/pw': 's3cret\n',
  '/sentinel-pw': 'sentinel-pw',
};
const read = (p: string): string => {
  if (!(p in FILES)) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
  return FILES[p];
};

function messages(raw: unknown): string[] {
  const r = schema.safeParse(raw);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('pipeline/sdk/redis-client', () => {
  describe('redisClientPlan', () => {
    it('maps a redis:// URL to host, port, db and its credentials; fail-fast options', () => {
      const plan = redisClientPlan(parse({ url: 'redis://app:p%40ss@r.example:6380/2' }), TUNING, read);
      expect(plan.kind).to.equal('server');
      expect(plan.options).to.deep.include({
        host: 'r.example',
        port: 6380,
        db: 2,
        username: 'app',
        password: 'p@ss',
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 1500,
        commandTimeout: 700,
      });
      expect(plan.options).to.not.have.property('tls');
      expect(plan.kind === 'server' && plan.options.retryStrategy?.(3)).to.equal(30);
    });

    it('turns on TLS for rediss:// (system CAs) and for a tls section (files read, verification on)', () => {
      const rediss = redisClientPlan(parse({ url: 'rediss://r:6379' }), TUNING, read);
      expect(rediss.kind !== 'cluster' && rediss.options.tls).to.deep.equal({});
      const plan = redisClientPlan(
        parse({
          url: 'redis://127.0.0.1:7000',
          username: 'tusk',
          password_file: '/pw',
          tls: {
            ca_file: '/ca.pem',
            cert_file: '/cert.pem',
            key_file: '/key.pem',
            server_name_override: 'redis.local',
          },
        }),
        TUNING,
        read,
      );
      expect(plan.kind).to.equal('server');
      expect(plan.kind !== 'cluster' && plan.options).to.deep.include({
        username: 'tusk',
        password: 's3cret',
        tls: {
          rejectUnauthorized: true,
          ca: 'CA PEM',
          cert: 'CERT PEM',
          key: 'KEY PEM',
          servername: 'redis.local',
        },
      });
      const insecure = redisClientPlan(parse({ tls: { insecure_skip_verify: true } }), TUNING, read);
      expect(insecure.kind !== 'cluster' && insecure.options.tls).to.deep.equal({ rejectUnauthorized: false });
      const off = redisClientPlan(parse({ tls: { enabled: false, ca_file: '/missing' } }), TUNING, read);
      expect(off.kind !== 'cluster' && off.options).to.not.have.property('tls');
    });

    it('maps cluster_nodes to a Cluster whose every node connection gets the auth and TLS', () => {
      const plan = redisClientPlan(
        parse({ cluster_nodes: 'a:7001, b:7002', username: 'tusk', password: 'pw', tls: { ca_file: '/ca.pem' } }),
        TUNING,
        read,
      );
      expect(plan.kind).to.equal('cluster');
      if (plan.kind !== 'cluster') return;
      expect(plan.nodes).to.deep.equal([
        { host: 'a', port: 7001 },
        { host: 'b', port: 7002 },
      ]);
      expect(plan.options).to.deep.include({
        lazyConnect: true,
        enableOfflineQueue: false,
        slotsRefreshTimeout: 1500,
        scaleReads: 'master',
      });
      expect(plan.options.clusterRetryStrategy?.(2, undefined)).to.equal(20);
      expect(plan.options.redisOptions).to.deep.include({
        username: 'tusk',
        password: 'pw',
        tls: { rejectUnauthorized: true, ca: 'CA PEM' },
        maxRetriesPerRequest: 1,
        connectTimeout: 1500,
        commandTimeout: 700,
      });
    });

    it('maps sentinel to the master of the group, TLS to sentinels inherited unless set, READONLY reconnects', () => {
      const plan = redisClientPlan(
        parse({
          password: 'data-pw',
          tls: { ca_file: '/ca.pem' },
          sentinel: { master_name: 'mymaster', nodes: ['s1:26379', 's2:26380'], password_file: '/sentinel-pw' },
        }),
        TUNING,
        read,
      );
      expect(plan.kind).to.equal('sentinel');
      if (plan.kind === 'cluster') return;
      const o = plan.options;
      expect(o).to.deep.include({
        name: 'mymaster',
        role: 'master',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        password: 'data-pw',
        sentinelPassword: 'sentinel-pw',
        tls: { rejectUnauthorized: true, ca: 'CA PEM' },
        sentinelTLS: { rejectUnauthorized: true, ca: 'CA PEM' },
        enableTLSForSentinelMode: true,
        sentinelCommandTimeout: 1500,
      });
      expect(o).to.not.have.any.keys('host', 'failoverDetector');
      expect(o.sentinelRetryStrategy?.(4)).to.equal(40);
      expect(o.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).to.equal(1);
      expect(o.reconnectOnError?.(new Error('ERR something else'))).to.equal(false);

      const plain = redisClientPlan(
        parse({
          tls: { ca_file: '/ca.pem' },
          sentinel: { master_name: 'm', nodes: 's1:26379', username: 'sentinel-user', tls: { enabled: false } },
        }),
        TUNING,
        read,
      );
      expect(plain.kind !== 'cluster' && plain.options).to.include({ sentinelUsername: 'sentinel-user' });
      expect(plain.kind !== 'cluster' && plain.options).to.not.have.property('sentinelTLS');
      expect(plain.kind !== 'cluster' && plain.options).to.not.have.property('sentinelPassword');
      const noTls = redisClientPlan(parse({ sentinel: { master_name: 'm', nodes: 's1:26379' } }), TUNING, read);
      expect(noTls.kind !== 'cluster' && noTls.options).to.not.have.any.keys('tls', 'enableTLSForSentinelMode');
    });

    it('fails with the path of a file it cannot read', () => {
      expect(() => redisClientPlan(parse({ password_file: '/nope' }), TUNING, read)).to.throw("open '/nope'");
    });
  });

  it('createRedisClient builds an unconnected Redis or Cluster', () => {
    const server = createRedisClient(parse({}), TUNING);
    const cluster = createRedisClient(parse({ cluster_nodes: ['127.0.0.1:1'] }), TUNING);
    try {
      expect(server).to.be.instanceOf(Redis);
      expect(server.status).to.equal('wait');
      expect(cluster).to.be.instanceOf(Cluster);
      expect(cluster.status).to.equal('wait');
    } finally {
      server.disconnect();
      cluster.disconnect();
    }
  });

  describe('checkRedisConnection', () => {
    it('accepts each mode alone', () => {
      expect(messages({})).to.deep.equal([]);
      expect(messages({ url: 'rediss://u:p@h:1/3' })).to.deep.equal([]);
      expect(messages({ cluster_nodes: ['a:1'], password: 'x', tls: {} })).to.deep.equal([]);
      expect(messages({ sentinel: { master_name: 'm', nodes: ['a:1'] }, username: 'u' })).to.deep.equal([]);
    });

    it('rejects contradictions with the key to fix', () => {
      expect(messages({ cluster_nodes: ['a:1'], sentinel: { master_name: 'm', nodes: ['s:2'] } })).to.deep.equal([
        'sentinel: sentinel and cluster_nodes are exclusive (Redis Cluster fails over by itself): set one of them',
      ]);
      expect(messages({ password: 'a', password_file: '/f' })).to.deep.equal([
        'password_file: set password or password_file, not both',
      ]);
      expect(
        messages({ sentinel: { master_name: 'm', nodes: ['s:2'], password: 'a', password_file: '/f' } }),
      ).to.deep.equal(['sentinel.password_file: set password or password_file, not both']);
      expect(messages({ url: 'http://h:1' })).to.deep.equal([
        'url: expected redis://[user[:password]@]host[:port][/db], or rediss://... for TLS',
      ]);
      expect(messages({ url: 'redis://u:p@h:1', password: 'q', username: 'v' })).to.deep.equal([
        'username: the user is set twice (in url and username)',
        'password: the password is set twice (in url and password)',
      ]);
      expect(messages({ url: 'redis://:p@h:1', password_file: '/f' })).to.deep.equal([
        'password_file: the password is set twice (in url and password_file)',
      ]);
      expect(
        messages({ url: 'rediss://u@h:1', password_file: '/f' }),
        'user in url, password from a file',
      ).to.deep.equal([]);
      expect(messages({ url: 'rediss://h:1', tls: { enabled: false } })).to.deep.equal([
        'tls.enabled: url is rediss:// (TLS) but tls.enabled is false',
      ]);
      expect(messages({ url: 'redis://:pw@h:1', cluster_nodes: 'a:1' })).to.deep.equal([
        'url: url is not used with cluster_nodes, so its credentials would be ignored: set username / password instead',
      ]);
      expect(messages({ url: 'rediss://h:1', sentinel: { master_name: 'm', nodes: ['s:2'] } })).to.deep.equal([
        'url: url is not used with sentinel, so its rediss:// (TLS) would be ignored: ' +
          'set username / password and tls {} instead',
      ]);
      expect(messages({ cluster_nodes: ['no-port'] })).to.deep.equal(['cluster_nodes.0: expected "host:port"']);
      expect(messages({ sentinel: { master_name: 'm', nodes: '' } })).to.deep.equal([
        'sentinel.nodes: at least one sentinel "host:port" is required',
      ]);
      expect(messages({ tls: { cert_file: '/c' } })).to.deep.equal([
        'tls.cert_file: cert_file and key_file must be set together',
      ]);
    });
  });

  it('redisTarget names the target without credentials', () => {
    expect(redisTarget(parse({ url: 'redis://u:secret@h:1/2' }))).to.equal('redis://h:1/2');
    expect(redisTarget(parse({ url: 'redis://h:1', tls: {} }))).to.equal('rediss://h:1');
    expect(redisTarget(parse({ cluster_nodes: ['a:1', 'b:2'], tls: {} }))).to.equal('cluster tls a:1,b:2');
    expect(redisTarget(parse({ sentinel: { master_name: 'm', nodes: ['s:1'], password: 'x' } }))).to.equal(
      'sentinel m@s:1',
    );
  });

  it('describeRedisError says what to fix, unwrapping a cluster client error', () => {
    const wrong = new Error('WRONGPASS invalid username-password pair or user is disabled.');
    expect(describeRedisError(wrong)).to.equal(
      'authentication failed: WRONGPASS invalid username-password pair or user is disabled. ' +
        '(check redis username / password)',
    );
    const clusterErr = Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: wrong });
    expect(describeRedisError(clusterErr)).to.match(/^authentication failed: WRONGPASS/);
    expect(describeRedisError(new Error('NOAUTH Authentication required.'))).to.match(/^authentication failed/);
    const sentinel = new Error(
      'All sentinels are unreachable. Retrying from scratch after 400ms. Last error: WRONGPASS x',
    );
    expect(describeRedisError(sentinel)).to.match(
      /^authentication failed: .*\(check redis sentinel username \/ password\)$/,
    );
    const cert = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(describeRedisError(cert)).to.equal('TLS failed: unable to verify the first certificate (check redis tls)');
    expect(describeRedisError(new Error('connect ECONNREFUSED 127.0.0.1:1'))).to.equal(
      'connect ECONNREFUSED 127.0.0.1:1',
    );
  });
});
