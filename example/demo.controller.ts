import type { CanActivate, ExecutionContext } from '@nestjs/common';
import {
  Body,
  Controller,
  Get,
  Injectable,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { StructuredLogger, TraceContext } from '../src/index.js';

/** A toy bearer-token guard: `Authorization: Bearer demo` is "ada@example.com". */
@Injectable()
export class DemoAuthGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | undefined>; user?: unknown }>();
    if (req.headers.authorization !== 'Bearer demo')
      throw new UnauthorizedException('use "Authorization: Bearer demo"');
    req.user = { email: 'ada@example.com' };
    return true;
  }
}

interface Item {
  id: number;
  name: string;
}

@Controller('orgs/:orgId')
export class OrgsController {
  private readonly items = new Map<string, Item[]>();

  constructor(
    private readonly log: StructuredLogger,
    private readonly trace: TraceContext,
  ) {}

  @Get('items')
  list(@Param('orgId') orgId: string): Item[] {
    return this.items.get(orgId) ?? [];
  }

  @Get('items/:id')
  one(@Param('orgId') orgId: string, @Param('id', ParseIntPipe) id: number): Item {
    const item = (this.items.get(orgId) ?? []).find((i) => i.id === id);
    if (!item) throw new NotFoundException(`item ${id} not found`);
    return item;
  }

  @Post('items')
  create(@Param('orgId') orgId: string, @Body() body: { name?: string }): Item {
    this.trace.setOrganization(orgId);
    const list = this.items.get(orgId) ?? [];
    const item = { id: list.length + 1, name: String(body?.name ?? 'unnamed') };
    list.push(item);
    this.items.set(orgId, list);
    this.log.info('item created', { doctype: 'Item', docname: String(item.id) });
    return item;
  }

  @Get('report')
  @UseGuards(DemoAuthGuard)
  report(@Param('orgId') orgId: string) {
    return { orgId, user: this.trace.user, items: (this.items.get(orgId) ?? []).length };
  }
}

@Controller()
export class MiscController {
  @Get()
  index() {
    return {
      try: [
        '/metrics',
        '/orgs/acme/items',
        '/orgs/acme/report (Authorization: Bearer demo)',
        '/flaky',
      ],
    };
  }

  /** Fails about a third of the time, so error rates and error logs have something to show. */
  @Get('flaky')
  flaky() {
    if (Math.random() < 0.33) throw new Error('flaky dependency timed out');
    return { ok: true };
  }
}
