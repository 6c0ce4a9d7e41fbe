import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { OpportunitiesService } from './opportunities.service__EXT__';

/** Host routes (no API key of the module's): /host/lost-reasons without tenancy, /host/tenants/:tenant/lost-reasons with it. */
@Controller('host')
export class OpportunitiesController {
  constructor(private readonly opportunities: OpportunitiesService) {}

  @Get('lost-reasons/count')
  async count(): Promise<{ total: number }> {
    return { total: await this.opportunities.countLostReasons() };
  }

  @Post('lost-reasons')
  async create(@Body() body: { reason: string }): Promise<{ id: string }> {
    return { id: await this.opportunities.markLost(body.reason) };
  }

  @Get('tenants/:tenant/lost-reasons/count')
  async countForTenant(@Param('tenant') tenant: string): Promise<{ total: number }> {
    return { total: await this.opportunities.countLostReasons(tenant) };
  }

  @Post('tenants/:tenant/lost-reasons')
  async createForTenant(@Param('tenant') tenant: string, @Body() body: { reason: string }): Promise<{ id: string }> {
    return { id: await this.opportunities.markLost(body.reason, tenant) };
  }
}
