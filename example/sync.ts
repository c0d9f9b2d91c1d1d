import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Injectable, Module } from '@nestjs/common';
import { SyncMetrics, SyncObservabilityModule } from '../src/sync/index.js';

const ORGS = ['acme', 'globex', 'initech'];
const DOCTYPES = ['Item', 'Report', 'Organization'];
const OPERATIONS = ['insert', 'update', 'delete'];

/**
 * A stand-in sync layer: every 2 s one organization pulls a batch of deltas,
 * every fifth with a conflict. initech's syncs mostly fail, so its lag grows.
 */
@Injectable()
export class DemoSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private readonly pending = new Map<string, number>(ORGS.map((o) => [o, 0]));
  private ticks = 0;

  constructor(private readonly sync: SyncMetrics) {}

  onApplicationBootstrap(): void {
    for (const org of ORGS) this.sync.succeeded(org);
    this.timer = setInterval(() => this.tick(), 2000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const pick = <T>(a: T[]): T => a[Math.floor(Math.random() * a.length)]!;
    const org = pick(ORGS);
    const batch = 1 + Math.floor(Math.random() * 20);
    for (let i = 0; i < batch; i++) this.sync.delta(pick(DOCTYPES), pick(OPERATIONS), org);
    // A conflict every fifth batch, the first one included.
    if (this.ticks++ % 5 === 0)
      this.sync.conflict(pick(DOCTYPES), pick(['last-write-wins', 'merge', 'manual']));
    const ok = org !== 'initech' || Math.random() < 0.1;
    if (ok) this.sync.succeeded(org);
    this.pending.set(org, ok ? 0 : (this.pending.get(org) ?? 0) + batch);
    for (const [o, n] of this.pending) this.sync.setQueueDepth(o, n);
  }
}

@Module({
  imports: [
    SyncObservabilityModule.forRoot({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
  ],
  providers: [DemoSync],
})
export class SyncModule {}
