import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { CreateLostReasonDto, ListLostReasonsDto, UpdateLostReasonDto } from './dto';
import { LostReasonService } from './lost-reason.service';

@Controller('api/crm/opportunity-lost-reason')
export class LostReasonController {
  constructor(private readonly lostReasonService: LostReasonService) {}

  @Post()
  create(@Body() dto: CreateLostReasonDto) {
    return this.lostReasonService.create(dto);
  }

  @Get()
  findAll(@Query() query: ListLostReasonsDto) {
    return this.lostReasonService.findAll(query);
  }

  @Get(':id')
  async findOne(@Param('id') id: string) {
    const { id: publicId, created_at, updated_at, lost_reason } = await this.lostReasonService.findOne(id);
    return { id: publicId, created_at, updated_at, lost_reason };
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: UpdateLostReasonDto) {
    return this.lostReasonService.update(id, dto);
  }

  @Delete(':id')
  remove(@Param('id') id: string) {
    return this.lostReasonService.remove(id);
  }
}
