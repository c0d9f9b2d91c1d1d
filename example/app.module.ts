import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../src/index.js';
import { DemoAuthGuard, MiscController, OrgsController } from './demo.controller.js';
import { JobsModule } from './jobs.js';

@Module({
  imports: [
    ObservabilityModule.forRoot({
      serviceName: 'demo-api',
      site: process.env.DEMO_SITE ?? 'demo.localhost',
      logging: { level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'info' },
    }),
    JobsModule,
  ],
  controllers: [OrgsController, MiscController],
  providers: [DemoAuthGuard],
})
export class AppModule {}
