// The crash-safety property against the real broker: a receiver process holding two messages unsettled
// (downstream never settles them) commits exactly up to the first of them; after kill -9, a new process
// in the same group gets every message from that offset again (the held ones included) and none before it.

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { expect } from 'chai';
import { traceIdOf } from '../exporters/kafka/otlp-fixtures';
import { committedOffsets, KafkaSuite, uniqueGroup, waitFor } from './kafka-helpers';

const REPO = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'kafka-crash-child.ts');

interface ChildEvent {
  event: 'pid' | 'joined' | 'got' | 'fatal';
  pid?: number;
  traceIds?: string[];
  held?: boolean;
  message?: string;
}

/** Child is a receiver process started with `npx tsx`, its events read from stdout. */
class Child {
  readonly events: ChildEvent[] = [];
  readonly proc: ChildProcess;
  exited = false;
  stderr = '';

  constructor(env: Record<string, string>) {
    // detached: the child gets its own process group, so cleanup can end exactly the processes started here.
    this.proc = spawn('npx', ['tsx', CHILD], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.proc.on('exit', () => (this.exited = true));
    readline.createInterface({ input: this.proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent);
      } catch {
        // not an event line
      }
    });
    this.proc.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  /** pid of the node process running the receiver (npx and tsx run it as a descendant). */
  get receiverPid(): number | undefined {
    return this.events.find((e) => e.event === 'pid')?.pid;
  }

  got(): string[] {
    return this.events.filter((e) => e.event === 'got').flatMap((e) => e.traceIds ?? []);
  }

  has(event: ChildEvent['event']): boolean {
    return this.events.some((e) => e.event === event);
  }

  /** kill ends this child's whole process group (only processes this test started). */
  kill(signal: NodeJS.Signals): void {
    if (this.exited || this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, signal);
    } catch {
      // already gone
    }
  }
}

describe('kafka receiver crash replay (real broker, kill -9)', function () {
  this.timeout(120_000);
  const children: Child[] = [];
  const kafka = new KafkaSuite();

  before(() => kafka.connect());

  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await kafka.close();
  });

  it('replays every message from the oldest unsettled one after kill -9, and none before it', async () => {
    const topic = await kafka.newTopic('t-crash');
    const group = uniqueGroup('g-crash');
    const ids = Array.from({ length: 20 }, (_, i) => traceIdOf(i, 0x88));
    const held = [ids[5], ids[12]];
    const committed = async () => (await committedOffsets(kafka.admin, group, topic)).get(0);

    const first = new Child({ TOPIC: topic, GROUP: group, HOLD: held.join(',') });
    children.push(first);
    await waitFor(
      `first child joined (stderr: ${first.stderr})`,
      () => first.has('joined') || first.has('fatal') || first.exited,
      60_000,
    );
    expect(first.has('joined')).to.equal(true, first.stderr);

    // One message at a time, each in its own downstream call (the child is caught up before the next).
    for (const id of ids) {
      await kafka.sendTrace(topic, id, { spansPerTrace: 2 });
      await waitFor(`child got ${id}`, () => first.got().includes(id), 20_000, 10);
    }
    expect(first.events.filter((e) => e.event === 'got' && e.held).flatMap((e) => e.traceIds)).to.deep.equal(held);
    await waitFor('commit = offset of the first held message (5)', async () => (await committed()) === 5, 10_000, 50);
    await new Promise((r) => setTimeout(r, 500)); // five commit intervals: offsets 6-11 settled, but 5 holds the watermark
    expect(await committed()).to.equal(5);

    const pid = first.receiverPid;
    expect(pid).to.be.a('number');
    process.kill(pid as number, 'SIGKILL');
    await waitFor('first child gone', () => first.exited, 10_000);
    expect(await committed()).to.equal(5, 'a kill -9 commits nothing more');

    const second = new Child({ TOPIC: topic, GROUP: group, HOLD: '' });
    children.push(second);
    // The dead member holds its partition until its session (6s) expires; then the new member gets it.
    await waitFor(
      `second child got the replay (stderr: ${second.stderr})`,
      () => new Set(second.got()).size >= 15 || second.exited,
      60_000,
      50,
    );
    const replayed = second.got();
    expect([...new Set(replayed)].sort()).to.deep.equal(ids.slice(5).sort(), 'exactly offsets 5..19 come again');
    for (const id of held) expect(replayed).to.include(id);
    for (const id of ids.slice(0, 5)) expect(replayed).not.to.include(id);
    await waitFor('commit reaches the end once the replay settled', async () => (await committed()) === 20, 10_000, 50);

    // A clean stop of the receiver process itself (it leaves the group, so the group can be deleted).
    process.kill(second.receiverPid as number, 'SIGTERM');
    await waitFor('second child stopped', () => second.exited, 20_000);
  });
});
