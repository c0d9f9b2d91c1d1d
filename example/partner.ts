import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Controller, Get, Injectable, Module, Param, Post } from '@nestjs/common';
import { IntegrationsObservabilityModule, Integrations } from '../src/integrations/index.js';
import { StructuredLogger } from '../src/index.js';

const ORGS = ['acme', 'globex', 'initech'];
/** Every partner call gives up after this long: a partner that hangs must not hold requests (or shutdown). */
const TIMEOUT_MS = 3000;

/** Calls the partner through `Integrations.fetch` and keeps one OAuth token per organization. */
@Injectable()
export class PartnerClient implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly integrations: Integrations,
    private readonly log: StructuredLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(ORGS.map((org) => this.refresh(org)));
    // Refresh tokens that expire within 30 s; initech's refreshes fail, so its token runs out.
    this.timer = setInterval(() => {
      for (const org of ORGS) {
        if ((this.expiries.get(org) ?? 0) - Date.now() < 30_000) void this.refresh(org);
      }
    }, 5000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async refresh(org: string): Promise<void> {
    try {
      if (org === 'initech' && this.expiries.has(org)) throw new Error('refresh token revoked');
      const res = await this.integrations.fetch('partner', '/oauth/token', {
        method: 'POST',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const body = (await res.json()) as { expires_in: number };
      const expiresAt = Date.now() + body.expires_in * 1000;
      this.expiries.set(org, expiresAt);
      this.integrations.tokenRefreshed('partner', 'success', { expiresAt, org });
    } catch (err) {
      this.integrations.tokenRefreshed('partner', 'error');
      this.log.warning('partner token refresh failed', { error: err, organization: org });
    }
  }

  customer(id: string): Promise<unknown> {
    return this.integrations
      .fetch('partner', `/v1/customers/${id}`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
      .then((r) => r.json());
  }

  invoice(): Promise<number> {
    return this.integrations
      .fetch('partner', '/v1/invoices', { method: 'POST', signal: AbortSignal.timeout(TIMEOUT_MS) })
      .then((r) => r.status);
  }
}

@Controller('orgs/:orgId/partner')
export class PartnerController {
  constructor(private readonly client: PartnerClient) {}

  @Get('customers/:id')
  customer(@Param('id') id: string) {
    return this.client.customer(id);
  }

  @Post('invoices')
  async invoice() {
    return { partnerStatus: await this.client.invoice() };
  }
}

@Module({
  imports: [
    IntegrationsObservabilityModule.forRoot({
      integrations: {
        partner: {
          // main.ts starts the fake partner API first and sets PARTNER_URL.
          baseUrl: process.env.PARTNER_URL ?? 'http://127.0.0.1:4000',
          routes: ['/v1/customers/:id', '/v1/invoices', '/oauth/token'],
          breaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
        },
      },
    }),
  ],
  controllers: [PartnerController],
  providers: [PartnerClient],
})
export class PartnerModule {}
