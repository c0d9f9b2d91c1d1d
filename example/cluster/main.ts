// A clustered service with Node's cluster module: the primary forks
// WORKERS processes (default: one per core), each runs ./app.js on the same
// port. SIGTERM to the primary stops every worker.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? availableParallelism());
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', () => {
    if (!stopping) cluster.fork(); // replace a worker that died
  });
  process.once('SIGTERM', () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
  });
} else {
  const { startWorker } = await import('./app.js');
  await startWorker();
}
