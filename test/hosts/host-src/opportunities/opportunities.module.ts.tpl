import { Module } from '@nestjs/common';
import { OpportunitiesController } from './opportunities.controller__EXT__';
import { OpportunitiesService } from './opportunities.service__EXT__';

@Module({
  controllers: [OpportunitiesController],
  providers: [OpportunitiesService],
})
export class OpportunitiesModule {}
