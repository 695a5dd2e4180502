import { describe, expect, it } from 'vitest';
import { FakeClock, NotFoundError, TimeoutError } from '../../util/index.js';
import type { ExecResult } from '../../cri/types.js';
import { execProbe } from './exec.js';

function runtimeAnswering(fn: (id: string, cmd: string[], timeout: number) => Promise<ExecResult>) {
  const calls: { id: string; cmd: string[]; timeout: number }[] = [];
  return {
    calls,
    runtime: {
      execSync: (id: string, cmd: string[], timeout: number) => {
        calls.push({ id, cmd, timeout });
        return fn(id, cmd, timeout);
      },
    },
  };
}

describe('exec handler', () => {
  it('exit 0 is success, other exits fail with the output (stdout then stderr, trimmed)', async () => {
    const clock = new FakeClock();
    const ok = runtimeAnswering(async () => ({ exitCode: 0, stdout: 'fine\n', stderr: '' }));
    expect(await execProbe({ runtime: ok.runtime, containerID: 'abc', command: ['true'], timeoutSeconds: 3, clock })).toEqual({
      result: 'success',
      output: 'fine',
    });
    expect(ok.calls).toEqual([{ id: 'abc', cmd: ['true'], timeout: 3 }]);
    const bad = runtimeAnswering(async () => ({ exitCode: 1, stdout: '', stderr: "cat: can't open '/tmp/healthy': No such file or directory\n" }));
    expect(await execProbe({ runtime: bad.runtime, containerID: 'abc', command: ['cat', '/tmp/healthy'], timeoutSeconds: 1, clock })).toEqual({
      result: 'failure',
      output: "cat: can't open '/tmp/healthy': No such file or directory",
    });
    expect(clock.pending()).toBe(0);
  });

  it('output is bounded to 10 KiB', async () => {
    const clock = new FakeClock();
    const big = runtimeAnswering(async () => ({ exitCode: 1, stdout: 'y'.repeat(50_000), stderr: '' }));
    const r = await execProbe({ runtime: big.runtime, containerID: 'abc', command: ['x'], timeoutSeconds: 1, clock });
    expect(r.output).toHaveLength(10 * 1024);
  });

  it('a runtime timeout is a failure with the upstream text', async () => {
    const clock = new FakeClock();
    const rt = runtimeAnswering(async () => {
      throw new TimeoutError('exec timed out');
    });
    expect(await execProbe({ runtime: rt.runtime, containerID: 'abc', command: ['sh', '-c', 'sleep 60'], timeoutSeconds: 2, clock })).toEqual({
      result: 'failure',
      output: 'command "sh -c sleep 60" timed out',
    });
  });

  it('a hung runtime call is cut off at the timeout (plus grace) by the prober itself', async () => {
    const clock = new FakeClock();
    const rt = runtimeAnswering(() => new Promise<ExecResult>(() => undefined));
    const p = execProbe({ runtime: rt.runtime, containerID: 'abc', command: ['sleep', '60'], timeoutSeconds: 2, clock, graceMs: 500 });
    let settled = false;
    void p.then(() => (settled = true));
    clock.advance(2_499);
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await p).toEqual({ result: 'failure', output: 'command "sleep 60" timed out' });
  });

  it('other runtime errors are prober errors (thrown)', async () => {
    const clock = new FakeClock();
    const rt = runtimeAnswering(async () => {
      throw new NotFoundError('no such container');
    });
    await expect(execProbe({ runtime: rt.runtime, containerID: 'abc', command: ['x'], timeoutSeconds: 1, clock })).rejects.toThrow(
      'no such container',
    );
  });
});
