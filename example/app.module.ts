import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../src/index.js';
import { DemoAuthGuard, MiscController, OrgsController } from './demo.controller.js';
import { HealthObservabilityModule } from '../src/terminus/index.js';
import { DatabaseModule } from './database.js';
import { JobsModule } from './jobs.js';
import { PartnerModule } from './partner.js';
import { RealtimeModule } from './realtime.js';
import { SyncModule } from './sync.js';

@Module({
  imports: [
    ObservabilityModule.forRoot({
      serviceName: 'demo-api',
      site: process.env.DEMO_SITE ?? 'demo.localhost',
      // METRICS_TOKEN: /metrics asks for `Authorization: Bearer <token>`
      ...(process.env.METRICS_TOKEN
        ? { metrics: { auth: { type: 'bearer' as const, token: process.env.METRICS_TOKEN } } }
        : {}),
      logging: {
        level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'info',
        ...(process.env.LOG_BUFFER_LIMIT
          ? { bufferLimit: Number(process.env.LOG_BUFFER_LIMIT) }
          : {}),
      },
    }),
    DatabaseModule,
    JobsModule,
    PartnerModule,
    SyncModule,
    RealtimeModule,
    HealthObservabilityModule.forRoot(),
  ],
  controllers: [OrgsController, MiscController],
  providers: [DemoAuthGuard],
})
export class AppModule {}
