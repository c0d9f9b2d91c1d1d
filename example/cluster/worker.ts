// The file PM2 starts in each worker: `pm2 start worker.js -i 3`.
import { startWorker } from './app.js';

await startWorker();
