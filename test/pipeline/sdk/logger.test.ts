// The service logger writes JSON lines whose level is a string ("level":"info"), as log pipelines and the
// Collector's own logs expect, and keeps the name and time fields.

import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger } from '../../../pipeline/sdk/logger';

describe('pipeline/sdk: logger', () => {
  it('writes string levels', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    const logger = createLogger('debug', 'tusk-test', sink);
    logger.info({ component: 'x' }, 'hello');
    logger.warn('careful');
    logger.debug('detail');
    const parsed = lines.map((l) => JSON.parse(l) as { level: unknown; name: string; msg: string; time: string });
    expect(parsed.map((p) => p.level)).to.deep.equal(['info', 'warn', 'debug']);
    expect(parsed[0].name).to.equal('tusk-test');
    expect(parsed[0].msg).to.equal('hello');
    expect(Date.parse(parsed[0].time)).to.be.greaterThan(0);
  });
});
