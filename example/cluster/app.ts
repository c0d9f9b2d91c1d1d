// One worker of a clustered service (Node's cluster module, or PM2 in
// cluster mode running ./worker.js): every worker serves the same port, and
// `metrics.cluster` makes whichever worker gets a scrape answer for all.
// test/reliability/scale-out.rel-spec.ts runs it under both.
import 'reflect-metadata';
import { Controller, Get, Module, NotFoundException, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ObservabilityModule } from '../../src/index.js';

@Controller('orgs/:orgId')
class ItemsController {
  @Get('items')
  list(@Param('orgId') orgId: string) {
    return { orgId, worker: process.pid };
  }

  @Get('items/:id')
  one(@Param('id') id: string) {
    throw new NotFoundException(`item ${id} not found`);
  }
}

@Module({
  imports: [
    ObservabilityModule.forRoot({
      serviceName: 'cluster-demo',
      metrics: { cluster: true },
    }),
  ],
  controllers: [ItemsController],
})
class AppModule {}

export async function startWorker(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  // PM2 waits for this before it counts the worker as online (wait_ready)
  process.send?.('ready');
}
