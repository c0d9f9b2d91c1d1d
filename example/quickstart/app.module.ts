// The README's first example, verbatim but for the import path (the README
// imports from 'nestjs-observability'); test/quickstart.e2e-spec.ts runs it.
import { Module } from '@nestjs/common';
import { ObservabilityModule } from '../../src/index.js';

@Module({
  imports: [ObservabilityModule.forRoot({ serviceName: 'api', site: 'acme.example' })],
})
export class AppModule {}
