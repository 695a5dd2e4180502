/**
 * ContainerStreaming contract on the real Docker engine (shared engine, objects labelled and removed): exec with
 * exit codes, stdin, stderr and a resized TTY; attach; port-forward through nsenter + socat into the sandbox's
 * network namespace to an httpd bound only to the pod's 127.0.0.1.
 */
import { runStreamingContract } from '../../src/cri/contract-streaming.js';
import { containerConfig, sandboxConfig } from '../../src/cri/contract-fixtures.js';
import { DockerRuntime } from '../../src/cri/index.js';
import { dockerClient, removeLabelled, DOCKER_SOCKET } from '../support/docker.js';

const TEST_LABEL = { key: 'io.nodelet.test', value: 'cri-docker-streaming' };

runStreamingContract(
  'DockerRuntime',
  async () => {
    const docker = dockerClient();
    await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
    return {
      runtime: new DockerRuntime({ socketPath: DOCKER_SOCKET }),
      cleanup: async () => {
        await removeLabelled(docker, TEST_LABEL.key, TEST_LABEL.value);
      },
    };
  },
  {
    testLabel: TEST_LABEL,
    realKernel: true,
    killsAbortedExec: true,
    serveHttp: async (runtime, sandboxId, port, body) => {
      const status = await runtime.podSandboxStatus(sandboxId);
      const sb = sandboxConfig(status.metadata.name, { [TEST_LABEL.key]: TEST_LABEL.value });
      sb.metadata = status.metadata;
      const script = `mkdir -p /www && printf '%s' '${body}' > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
      const c = containerConfig(`httpd-${port}`, sb, { [TEST_LABEL.key]: TEST_LABEL.value }, { command: ['sh', '-c', script] });
      const id = await runtime.createContainer(sandboxId, c, sb);
      await runtime.startContainer(id);
    },
  },
);
