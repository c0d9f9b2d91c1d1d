// The README's main.ts: bufferLogs holds Nest's start-up lines until the
// module's JSON logger takes over, so every line on stdout is JSON.
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

const app = await NestFactory.create(AppModule, { bufferLogs: true });
app.enableShutdownHooks(); // flushes log lines and closes cleanly on SIGTERM
await app.listen(Number(process.env.PORT ?? 3000));
