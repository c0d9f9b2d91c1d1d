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
  Query,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { StructuredLogger, TraceContext } from '../src/index.js';
import { Item } from './database.js';

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

@Controller('orgs/:orgId')
export class OrgsController {
  constructor(
    @InjectRepository(Item) private readonly items: Repository<Item>,
    private readonly log: StructuredLogger,
    private readonly trace: TraceContext,
  ) {}

  @Get('items')
  list(@Param('orgId') org: string): Promise<Item[]> {
    return this.items.find({ where: { org }, order: { id: 'DESC' }, take: 20 });
  }

  @Get('items/:id')
  async one(@Param('orgId') org: string, @Param('id', ParseIntPipe) id: number): Promise<Item> {
    const item = await this.items.findOneBy({ org, id });
    if (!item) throw new NotFoundException(`item ${id} not found`);
    return item;
  }

  @Post('items')
  async create(@Param('orgId') org: string, @Body() body: { name?: string }): Promise<Item> {
    this.trace.setOrganization(org);
    const item = await this.items.save(
      this.items.create({ org, name: String(body?.name ?? 'unnamed') }),
    );
    this.log.info('item created', { doctype: 'Item', docname: String(item.id) });
    return item;
  }

  @Get('report')
  @UseGuards(DemoAuthGuard)
  async report(@Param('orgId') org: string) {
    return { org, user: this.trace.user, items: await this.items.countBy({ org }) };
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

  /** Answers after `ms` milliseconds (at most 5 s): a slow dependency, for timeouts and client aborts. */
  @Get('slow')
  async slow(@Query('ms') ms?: string) {
    const wait = Math.min(Math.max(Number(ms) || 200, 0), 5000);
    await new Promise((r) => setTimeout(r, wait));
    return { waited: wait };
  }

  /** Fails about a third of the time, so error rates and error logs have something to show. */
  @Get('flaky')
  flaky() {
    if (Math.random() < 0.33) throw new Error('flaky dependency timed out');
    return { ok: true };
  }
}
