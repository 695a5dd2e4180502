import { describe, expect, it } from 'vitest';
import { FakeClock, silentLogger } from '../../util/index.js';
import { ExecReaper, statStartTicks } from './exec-reaper.js';
import { decodeListPidsResponse, encodeKillRequest, encodeListPidsRequest, TasksCallError, type ContainerdTasks, type ExecProcess } from './tasks.js';

/** A fake containerd and host: exec processes per container with argv and start time; kills remove them. */
class FakeTasks implements ContainerdTasks {
  readonly procs = new Map<string, { execId: string; pid: number; argv: string[]; start: number }[]>();
  readonly killed: string[] = [];
  fail: Error | undefined;
  /** Ticks since boot; every ticket and every process start moves it on. */
  ticks = 5000;
  #pid = 100;

  start(containerId: string, argv: string[]): string {
    const execId = `exec-${this.#pid}`;
    const list = this.procs.get(containerId) ?? [];
    list.push({ execId, pid: this.#pid++, argv, start: this.ticks++ });
    this.procs.set(containerId, list);
    return execId;
  }
  proc(pid: number): { argv: string[]; start: number } | undefined {
    for (const l of this.procs.values()) for (const p of l) if (p.pid === pid) return p;
    return undefined;
  }
  async listExecs(containerId: string): Promise<ExecProcess[]> {
    if (this.fail) throw this.fail;
    return (this.procs.get(containerId) ?? []).map(({ execId, pid }) => ({ execId, pid }));
  }
  async killExec(containerId: string, execId: string, signal: number): Promise<void> {
    expect(signal).toBe(9);
    this.killed.push(execId);
    this.procs.set(containerId, (this.procs.get(containerId) ?? []).filter((p) => p.execId !== execId));
  }
  close(): void {}
}

function setup(): { tasks: FakeTasks; clock: FakeClock; reaper: ExecReaper } {
  const tasks = new FakeTasks();
  const clock = new FakeClock();
  const procs = {
    now: async () => tasks.ticks++,
    startTicks: async (pid: number) => tasks.proc(pid)?.start,
    cmdline: async (pid: number) => tasks.proc(pid)?.argv,
  };
  const reaper = new ExecReaper({ tasks, clock, logger: silentLogger(), procs });
  return { tasks, clock, reaper };
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('ExecReaper', () => {
  it('kills the exec that appeared since the ticket and runs its command, not older ones', async () => {
    const { tasks, reaper } = setup();
    const older = tasks.start('c1', ['sleep', '4242']);
    const t = await reaper.track('c1', ['sleep', '4242']);
    const mine = tasks.start('c1', ['sleep', '4242']);
    tasks.start('c2', ['sleep', '4242']); // another container
    expect(await t.reap()).toBe('killed');
    expect(tasks.killed).toEqual([mine]);
    expect(tasks.procs.get('c1')!.map((p) => p.execId)).toEqual([older]);
    expect(reaper.liveTickets).toBe(0);
  });

  it('a released ticket kills nothing', async () => {
    const { tasks, reaper } = setup();
    const t = await reaper.track('c1', ['true']);
    tasks.start('c1', ['true']);
    t.release();
    expect(await t.reap()).toBe('none');
    expect(tasks.killed).toEqual([]);
    expect(reaper.liveTickets).toBe(0);
  });

  it('tells two sessions with the same command apart by their tickets', async () => {
    const { tasks, reaper } = setup();
    const a = await reaper.track('c1', ['sh']);
    const pa = tasks.start('c1', ['sh']);
    const b = await reaper.track('c1', ['sh']); // younger than pa
    const pb = tasks.start('c1', ['sh']);
    expect(await a.reap()).toBe('killed');
    expect(tasks.killed).toEqual([pa]);
    expect(await b.reap()).toBe('killed');
    expect(tasks.killed).toEqual([pa, pb]);
  });

  it('kills nothing when another session with the same command could own the process', async () => {
    const { tasks, reaper } = setup();
    const a = await reaper.track('c1', ['sh']);
    const b = await reaper.track('c1', ['sh']); // both tickets older than either process
    tasks.start('c1', ['sh']);
    tasks.start('c1', ['sh']);
    expect(await a.reap()).toBe('ambiguous');
    expect(tasks.killed).toEqual([]);
    b.release();
  });

  it('prefers the command line; another session with another command does not make it ambiguous', async () => {
    const { tasks, reaper } = setup();
    const a = await reaper.track('c1', ['sleep', '1']);
    const b = await reaper.track('c1', ['cat']);
    const pa = tasks.start('c1', ['sleep', '1']);
    tasks.start('c1', ['cat']);
    expect(await a.reap()).toBe('killed');
    expect(tasks.killed).toEqual([pa]);
    b.release();
  });

  it('kills a lone new exec whose command line changed, unless a probe or another session could own it', async () => {
    const { tasks, reaper } = setup();
    const t = await reaper.track('c1', ['sh', '-c', 'exec sleep 9']);
    const p = tasks.start('c1', ['sleep', '9']);
    expect(await t.reap()).toBe('killed');
    expect(tasks.killed).toEqual([p]);

    const t2 = await reaper.track('c1', ['sh', '-c', 'exec sleep 9']);
    const probeDone = reaper.noteExecSync('c1');
    tasks.start('c1', ['cat', '/tmp/healthy']);
    expect(await t2.reap()).toBe('none');
    probeDone();
    expect(tasks.killed).toEqual([p]);
  });

  it('looks again when the process starts after the abort, then gives up', async () => {
    const { tasks, clock, reaper } = setup();
    const t = await reaper.track('c1', ['sleep', '5']);
    expect(await t.reap()).toBe('none');
    expect(reaper.liveTickets).toBe(1); // still looking
    const late = tasks.start('c1', ['sleep', '5']);
    clock.advance(250);
    await flush();
    expect(tasks.killed).toEqual([late]);
    expect(reaper.liveTickets).toBe(0);

    const t2 = await reaper.track('c1', ['sleep', '6']);
    expect(await t2.reap()).toBe('none');
    for (const ms of [250, 1000, 3000]) {
      clock.advance(ms);
      await flush();
    }
    expect(reaper.liveTickets).toBe(0);
    expect(clock.pending()).toBe(0); // no timer left behind
  });

  it('close() ends the background retries', async () => {
    const { clock, reaper } = setup();
    const t = await reaper.track('c1', ['sleep', '7']);
    expect(await t.reap()).toBe('none');
    expect(clock.pending()).toBe(1);
    reaper.close();
    await flush();
    expect(clock.pending()).toBe(0);
    expect(reaper.liveTickets).toBe(0);
  });

  it('turns itself off on a runtime without the Tasks service (CRI-O), and survives other errors', async () => {
    const { tasks, reaper } = setup();
    tasks.fail = new Error('connection refused');
    const t = await reaper.track('c1', ['sh']);
    expect(await t.reap()).toBe('unavailable');
    expect(reaper.liveTickets).toBe(0);
    tasks.fail = new TasksCallError('unknown service containerd.services.tasks.v1.Tasks', 12);
    expect(await (await reaper.track('c1', ['sh'])).reap()).toBe('unavailable');
    tasks.fail = undefined;
    const off = await reaper.track('c1', ['sh']);
    tasks.start('c1', ['sh']);
    expect(await off.reap()).toBe('unavailable');
    expect(tasks.killed).toEqual([]);
    expect(reaper.liveTickets).toBe(0);
  });
});

describe('/proc parsing', () => {
  it('reads starttime (field 22) even when the command name has spaces and parentheses', () => {
    const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10 18446744073709551615';
    expect(statStartTicks(`42 (sleep) ${tail}`)).toBe(123456);
    expect(statStartTicks(`42 (a b) c)) ${tail}`)).toBe(123456);
    expect(statStartTicks('42 (x) S 1')).toBeUndefined();
  });
});

describe('containerd Tasks messages', () => {
  it('encodes the requests', () => {
    expect(encodeListPidsRequest('abc')).toEqual(Buffer.from([0x0a, 3, 0x61, 0x62, 0x63]));
    expect(encodeKillRequest('c', 'e', 9)).toEqual(Buffer.from([0x0a, 1, 0x63, 0x12, 1, 0x65, 0x18, 9]));
  });

  it('decodes ListPids: exec processes with their exec ID, not the init process', () => {
    const str = (f: number, b: Buffer): Buffer => Buffer.concat([Buffer.from([(f << 3) | 2, b.length]), b]);
    const details = str(1, Buffer.from('exec-1'));
    const any = Buffer.concat([str(1, Buffer.from('containerd.runc.v1.ProcessDetails')), str(2, details)]);
    const init = Buffer.from([0x08, 0xe5, 0x07]); // pid 997, no info
    const exec = Buffer.concat([Buffer.from([0x08, 0xac, 0x02]), str(2, any)]); // pid 300
    expect(decodeListPidsResponse(Buffer.concat([str(1, init), str(1, exec)]))).toEqual([{ execId: 'exec-1', pid: 300 }]);
    expect(decodeListPidsResponse(Buffer.alloc(0))).toEqual([]);
    expect(() => decodeListPidsResponse(Buffer.from([0x0a, 5, 1]))).toThrow('truncated');
  });
});
