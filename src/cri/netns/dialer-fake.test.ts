import { createServer, type Server } from 'node:net';
import { runNetnsDialerContract } from './contract.js';
import { LoopbackDialer } from './testing.js';

const base = 20000 + (process.pid % 20000);
runNetnsDialerContract(
  'LoopbackDialer',
  async () => {
    const servers: Server[] = [];
    return {
      dialer: new LoopbackDialer(),
      target: {},
      listen: (host, port, greeting) =>
        new Promise<void>((resolve, reject) => {
          const srv = createServer({ allowHalfOpen: true }, (s) => {
            s.on('error', () => undefined);
            s.write(greeting);
            s.pipe(s);
          });
          servers.push(srv);
          srv.once('error', reject);
          srv.listen(port, host, () => resolve());
        }),
      cleanup: async () => {
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      },
    };
  },
  [base, base + 1, base + 2],
);
