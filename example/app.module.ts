import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../src/index.js';
import { DemoAuthGuard, MiscController, OrgsController } from './demo.controller.js';
import { HealthObservabilityModule } from '../src/terminus/index.js';
import { DatabaseModule } from './database.js';
import { JobsModule } from './jobs.js';

@Module({
  imports: [
    ObservabilityModule.forRoot({
      serviceName: 'demo-api',
      site: process.env.DEMO_SITE ?? 'demo.localhost',
      logging: { level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'info' },
    }),
    DatabaseModule,
    JobsModule,
    HealthObservabilityModule.forRoot(),
  ],
  controllers: [OrgsController, MiscController],
  providers: [DemoAuthGuard],
})
export class AppModule {}
