/**
 * One exec straight to a kubelet's API as the API server makes it (x509 client certificate, a fresh TLS connection,
 * `Upgrade: SPDY/3.1`, remotecommand v4, streams error/stdout/stderr), timed phase by phase. Without kubectl and the
 * API server in the way, it shows what the agent itself adds: TLS handshake, authn/authz and routing up to the 101,
 * then the runtime's exec up to the final Status.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { SpdyConnection, type SpdyStream } from '../../src/spdy/index.js';
import { createLogger } from '../../src/util/index.js';
import { summarize, type Summary } from './stats.js';

/** Milliseconds from the start of one exec to each phase. */
export interface DirectExecTiming {
  /** TLS handshake done. */
  tls: number;
  /** 101 Switching Protocols received. */
  upgraded: number;
  /** The three streams opened, each after the previous one's SYN_REPLY (as Go clients do). */
  streams: number;
  /** The final Status arrived on the error stream (or the error stream ended). */
  status: number;
  /** Every stream ended and the connection closed. */
  done: number;
}

/** The client identity the API server uses toward kubelets. */
export interface KubeletClientCert {
  cert: Buffer;
  key: Buffer;
}

/** Reads `<dir>/pki/kubelet-client.{crt,key}` (../shared/k8s/up.sh). */
export function readKubeletClientCert(k8sDir: string): KubeletClientCert {
  return { cert: readFileSync(`${k8sDir}/pki/kubelet-client.crt`), key: readFileSync(`${k8sDir}/pki/kubelet-client.key`) };
}

const silent = createLogger({ level: 'silent' });

function ended(s: SpdyStream): Promise<void> {
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) resolve();
    s.once('end', resolve);
    s.once('close', resolve);
    s.resume();
  });
}

/** Runs `command` in `ns/pod` container `container` on the kubelet at `host:port`; rejects unless it exits 0. */
export function directExec(o: { host: string; port: number; ns: string; pod: string; container: string; command: string[]; client: KubeletClientCert }): Promise<DirectExecTiming> {
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const query = new URLSearchParams([['output', '1'], ['error', '1'], ...o.command.map((c): [string, string] => ['command', c])]);
  return new Promise((resolve, reject) => {
    const timing: Partial<DirectExecTiming> = {};
    const req = request({
      host: o.host,
      port: o.port,
      method: 'POST',
      path: `/exec/${o.ns}/${o.pod}/${o.container}?${query.toString()}`,
      cert: o.client.cert,
      key: o.client.key,
      rejectUnauthorized: false, // the kubelets' self-signed serving certificates
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' },
    });
    req.on('socket', (s: Socket) => s.once('secureConnect', () => (timing.tls = now())));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Error(`exec answered ${String(res.statusCode)}: ${body.trim()}`)));
    });
    req.on('error', reject);
    req.on('upgrade', (_res, socket, head) => {
      timing.upgraded = now();
      const conn = new SpdyConnection(socket, { logger: silent, onStream: (s) => s.reset() });
      conn.feed(head);
      // As Go's SPDY client (the API server's): each stream is opened once the previous one was replied to.
      const open = async (type: string): Promise<SpdyStream> => {
        const s = conn.openStream({ streamtype: type });
        await new Promise((r) => s.once('reply', r));
        return s;
      };
      let text = '';
      void (async () => {
        const error = await open('error');
        error.on('data', (d: Buffer) => (text += d.toString()));
        const errorEnded = ended(error);
        const outs: Promise<void>[] = [];
        for (const t of ['stdout', 'stderr']) outs.push(ended(await open(t)));
        timing.streams = now();
        await errorEnded;
        return outs;
      })()
        .then((outs) => {
          timing.status = now();
          return Promise.all(outs);
        })
        .then(() => {
          conn.close('done');
          timing.done = now();
          const status = text === '' ? {} : (JSON.parse(text) as { status?: string; message?: string });
          if (text !== '' && status.status !== 'Success') reject(new Error(`exec failed: ${text}`));
          else resolve(timing as DirectExecTiming);
        });
    });
    req.end();
  });
}

/** Each phase of many direct execs, summarized. */
export type DirectSummary = Record<keyof DirectExecTiming, Summary>;

/** Summarizes the samples phase by phase. */
export function summarizeDirect(samples: readonly DirectExecTiming[]): DirectSummary {
  const phase = (k: keyof DirectExecTiming): Summary => summarize(samples.map((x) => x[k]));
  return { tls: phase('tls'), upgraded: phase('upgraded'), streams: phase('streams'), status: phase('status'), done: phase('done') };
}

const ms1 = (v: number): string => `${v.toFixed(1)} ms`;

/** One line for the console. */
export function fmtDirect(d: DirectSummary | undefined): string {
  if (d === undefined) return 'n/a';
  return `TLS ${ms1(d.tls.p50)}, 101 ${ms1(d.upgraded.p50)}, streams ${ms1(d.streams.p50)}, status ${ms1(d.status.p50)}, done ${ms1(d.done.p50)} (p99 ${ms1(d.done.p99)}, n=${d.done.n})`;
}

const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The report's paragraph and table of direct execs: rows of (label, summary, the upstream summary to compare with). */
export function directSection(runs: number, rows: [string, DirectSummary | undefined, DirectSummary | undefined][]): string {
  const row = ([label, d, base]: [string, DirectSummary | undefined, DirectSummary | undefined]): string => {
    const cells = d === undefined ? 'n/a | | | |' : `${ms1(d.tls.p50)} | ${ms1(d.upgraded.p50)} | ${ms1(d.streams.p50)} | ${ms1(d.status.p50)} | ${ms1(d.done.p50)} / ${ms1(d.done.p99)}`;
    const vs = d === undefined || base === undefined ? '—' : `${ratio(d.done.p50, base.done.p50)} / ${ratio(d.done.p99, base.done.p99)}`;
    return `| ${label} | ${cells} | ${vs} |`;
  };
  return `The same exec straight to each agent's kubelet API port (bench/lib/direct-exec.ts): the API server's client
certificate, a fresh TLS connection per exec, SPDY remotecommand v4 with error/stdout/stderr streams, each opened after
the previous one's SYN_REPLY as the API server's Go client does — no kubectl, no API server, so what remains is the
agent and its runtime. Interleaved as above, ${runs} runs per target; p50 of the time from the start of the exec to
each phase (TLS handshake done, 101 received, the three streams replied to, final Status received, connection
closed), and p50 / p99 of the whole:

| target | TLS | 101 | streams | Status | done p50 / p99 | vs upstream (p50 / p99) |
| --- | --- | --- | --- | --- | --- | --- |
${rows.map(row).join('\n')}`;
}
