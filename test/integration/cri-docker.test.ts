import { runRuntimeContract } from '../../src/cri/contract.js';
import { DockerRuntime } from '../../src/cri/index.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-docker' };
const TMP_IMAGE = 'localhost/nodelet/cri-contract-tmp:1';

runRuntimeContract(
  'DockerRuntime',
  async () => {
    const docker = dockerClient();
    await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
    return {
      runtime: new DockerRuntime({ socketPath: DOCKER_SOCKET }),
      cleanup: async () => {
        await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
        await docker
          .getImage(TMP_IMAGE)
          .remove()
          .catch(() => undefined);
      },
    };
  },
  {
    testLabel: TEST_LABEL,
    runtimeName: 'docker',
    realKernel: true,
    makeUnavailable: () => new DockerRuntime({ socketPath: '/tmp/nodelet-no-such-docker.sock' }),
    makeRemovableImage: async () => {
      await dockerClient().getImage('localhost/nodelet/testbox:1.0').tag({ repo: 'localhost/nodelet/cri-contract-tmp', tag: '1' });
      return TMP_IMAGE;
    },
  },
);
