/**
 * The program {@link NsenterDialer} runs (with `node -e`) inside a network namespace. It first reports the namespace
 * it is in; then, per request `{id, port}`, it connects to localhost:<port> (127.0.0.1, then ::1), never reading from
 * the socket, and sends the connected socket's handle back over the IPC channel (SCM_RIGHTS), closing its own copy
 * once sent. It exits when the channel closes (its parent ended or let it go).
 */
export const HELPER_SOURCE = String.raw`'use strict';
const net = require('net');
const fs = require('fs');
process.send({ netns: fs.readlinkSync('/proc/self/ns/net') });
process.on('message', (m) => {
  const errors = [];
  let done = false;
  const attempt = (hosts) => {
    const s = new net.Socket();
    s.pause();
    s.on('error', (e) => {
      s.destroy();
      if (done) return;
      errors.push(e.message);
      if (hosts.length > 1) return attempt(hosts.slice(1));
      done = true;
      process.send({ id: m.id, errors });
    });
    s.connect({ host: hosts[0], port: m.port }, () => {
      done = true;
      process.send({ id: m.id }, s._handle, () => s.destroy());
    });
  };
  attempt(['127.0.0.1', '::1']);
});
process.on('disconnect', () => process.exit(0));
`;
