import { runRuntimeContract } from '../contract.js';
import { FakeRuntime } from './fake-runtime.js';

runRuntimeContract('FakeRuntime', async () => ({ runtime: new FakeRuntime(), cleanup: async () => undefined }), {
  testLabel: { key: 'io.nodelet.test', value: 'cri-contract-fake' },
  runtimeName: 'fake',
  realKernel: false,
  takesPodCIDRs: true,
  makeUnavailable: () => {
    const rt = new FakeRuntime();
    rt.setUnavailable(true);
    return rt;
  },
  makeRemovableImage: async (runtime) => {
    const ref = 'localhost/nodelet/contract-tmp:1';
    (runtime as FakeRuntime).addImage({ ref });
    return ref;
  },
});
