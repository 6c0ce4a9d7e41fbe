import { Body, Controller, Get, Post } from '@nestjs/common';
import { OpportunitiesService } from './opportunities.service__EXT__';

@Controller('host/lost-reasons')
export class OpportunitiesController {
  constructor(private readonly opportunities: OpportunitiesService) {}

  @Get('count')
  async count(): Promise<{ total: number }> {
    return { total: await this.opportunities.countLostReasons() };
  }

  @Post()
  async create(@Body() body: { reason: string }): Promise<{ id: string }> {
    return { id: await this.opportunities.markLost(body.reason) };
  }
}
