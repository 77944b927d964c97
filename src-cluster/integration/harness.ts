// The cluster integration tests' and benchmarks' name for the shared cluster harness: a real
// `gatehouse start` child process driven through the real CLIs. One implementation serves the
// cluster, client and e2e tests, so it lives in test-support/ (see there).
export {
  ClusterProcess as TestCluster,
  freePort,
  ROOT,
  type CliResult,
  type ClusterProcessOptions as ClusterOptions,
} from '../../test-support/cluster-process.ts';
