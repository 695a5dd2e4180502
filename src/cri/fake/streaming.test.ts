import { runStreamingContract } from '../contract-streaming.js';
import { FakeRuntime } from './fake-runtime.js';

runStreamingContract('FakeRuntime', async () => ({ runtime: new FakeRuntime(), cleanup: async () => undefined }), {
  testLabel: { key: 'io.nodelet.test', value: 'streaming-contract-fake' },
  realKernel: false,
  killsAbortedExec: false,
  serveHttp: async (runtime, _sandboxId, port, body) => {
    (runtime as FakeRuntime).setPortHandler(port, async (stream) => {
      stream.resume();
      stream.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
  },
});
