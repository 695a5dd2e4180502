/**
 * A connected pair of unix stream sockets, made through a one-shot listener in a private directory (Node has no
 * socketpair()): the `local` end is this process's, created with `onread` so that its reads go into reused buffers;
 * the `remote` end is never read here (paused from the start) and is meant to be handed to a child as a file
 * descriptor. A child's stdio pipes cannot read into pooled buffers, which is why port-forward gives socat this
 * socket instead of its stdin/stdout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type OnReadOpts, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The two ends of a {@link SocketPairs.open} pair. */
export interface SocketPair {
  local: Socket;
  remote: Socket;
}

/**
 * Makes socket pairs, each through a listener in a private directory of its own (mode 0700, made by mkdtemp in the
 * system temp dir or the given parent, removed again at once): only this user can connect to a listener during the
 * moment it exists, and nothing is left behind for a temp cleaner to break. Each listener accepts one connection
 * and is closed at once (libuv unlinks its socket file). Safe for concurrent calls.
 */
export class SocketPairs {
  readonly #parent: string;

  constructor(parent: string = tmpdir()) {
    this.#parent = parent;
  }

  /**
   * A connected pair; `onread` is given to the local end, which stays open for writing after the other end
   * finished writing (`allowHalfOpen`). Rejects when the listener or the connect fails.
   */
  async open(onread: OnReadOpts): Promise<SocketPair> {
    const dir = await mkdtemp(join(this.#parent, 'nodelet-pf-'));
    const path = join(dir, 's');
    const server = createServer({ pauseOnConnect: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      const local = connect({ path, onread, allowHalfOpen: true });
      await new Promise<void>((resolve, reject) => {
        local.once('error', reject);
        local.once('connect', () => {
          local.off('error', reject);
          resolve();
        });
      });
      return { local, remote: await accepted };
    } finally {
      // Stops listening at once (the accepted connection is not affected; close's callback would wait for it).
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
}
