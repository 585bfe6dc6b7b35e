// vitest globalSetup of the server tests on Postgres: one throwaway cluster for the run, its
// admin URL provided to the tests (each harness works in a schema of its own), removed at the end.
import type { TestProject } from 'vitest/node';
import { startPostgresCluster } from './postgres-cluster.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgresCluster();
  project.provide('postgresAdminUrl', cluster.url);
  return () => cluster.stop();
}
