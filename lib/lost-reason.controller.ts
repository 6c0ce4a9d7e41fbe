import {
  CanActivate,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  Type,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { CreateLostReasonDto, ListLostReasonsDto, UpdateLostReasonDto } from './dto';
import { LostReasonBody } from './lost-reason-body.decorator';
import { LostReasonExceptionFilter } from './lost-reason-exception.filter';
import { LostReasonService } from './lost-reason.service';

/**
 * The five routes. Bodies and queries are typed `unknown` on purpose: a host-wide
 * `ValidationPipe` skips such parameters, so the host's pipe options cannot change this API;
 * the service validates them instead.
 */
export class LostReasonControllerBase {
  constructor(protected readonly lostReasons: LostReasonService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  create(@LostReasonBody() body: unknown) {
    return this.lostReasons.create(body as CreateLostReasonDto);
  }

  @Get()
  list(@Query() query: unknown) {
    return this.lostReasons.list(query as ListLostReasonsDto);
  }

  @Get(':id')
  retrieve(@Param('id') id: string) {
    return this.lostReasons.retrieve(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @LostReasonBody() body: unknown) {
    return this.lostReasons.update(id, body as UpdateLostReasonDto);
  }

  @Delete(':id')
  delete(@Param('id') id: string) {
    return this.lostReasons.delete(id);
  }
}

/**
 * A controller class for one registration: its path and guards come from the module's
 * options, and a decorator's path is fixed when the class is declared.
 */
export function createLostReasonController(
  path: string,
  guards: Array<CanActivate | Type<CanActivate>>,
): Type<LostReasonControllerBase> {
  @Controller(path)
  @UseGuards(...guards)
  @UseFilters(LostReasonExceptionFilter)
  class LostReasonController extends LostReasonControllerBase {
    constructor(lostReasons: LostReasonService) {
      super(lostReasons);
    }
  }
  return LostReasonController;
}
