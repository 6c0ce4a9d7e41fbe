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
  Req,
  Res,
  Type,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { CreateLostReasonDto, ListLostReasonsDto, UpdateLostReasonDto } from '../dto';
import { LostReasonExceptionFilter } from '../errors/exception.filter';
import { IDEMPOTENT_REPLAYED_HEADER } from '../idempotency/idempotency.constants';
import { idempotencyKeyOf } from '../idempotency/idempotency-key.parser';
import { LostReasonIdempotency } from '../idempotency/idempotency.service';
import { LostReasonBody } from './json-body.decorator';
import {
  ApiCreateLostReason,
  ApiDeleteLostReason,
  ApiListLostReasons,
  ApiLostReasonResource,
  ApiRetrieveLostReason,
  ApiUpdateLostReason,
} from './lost-reason.openapi';
import { LostReasonRequestRunner } from './request.runner';

/**
 * The five routes: each runs the service through the request runner; a create with an
 * `Idempotency-Key` goes through the idempotency protocol first. Bodies and queries
 * are typed `unknown` on purpose: a host-wide `ValidationPipe` skips such parameters, so the
 * host's pipe options cannot change this API; the service validates them instead, and the
 * OpenAPI decorators describe them.
 */
@ApiLostReasonResource()
export class LostReasonControllerBase {
  constructor(
    private readonly requests: LostReasonRequestRunner,
    private readonly idempotency: LostReasonIdempotency,
  ) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiCreateLostReason()
  create(@LostReasonBody() body: unknown, @Req() request: object, @Res({ passthrough: true }) response: object) {
    return this.requests.run(request, response, async ({ tenant, service }) => {
      const key = idempotencyKeyOf(request);
      if (key === undefined) return service.create(body as CreateLostReasonDto);
      // Validated once, by the protocol, before it claims the key; the service takes them checked.
      const result = await this.idempotency.run(tenant ?? '', key, body, (manager, params) =>
        (manager ? service.withManager(manager) : service).createValidated(params),
      );
      if (result.replayed) this.requests.setHeader(response, IDEMPOTENT_REPLAYED_HEADER, 'true');
      return result.body;
    });
  }

  @Get()
  @ApiListLostReasons()
  list(@Query() query: unknown, @Req() request: object, @Res({ passthrough: true }) response: object) {
    return this.requests.run(request, response, ({ service }) => service.list(query as ListLostReasonsDto));
  }

  @Get(':id')
  @ApiRetrieveLostReason()
  retrieve(@Param('id') id: string, @Req() request: object, @Res({ passthrough: true }) response: object) {
    return this.requests.run(request, response, ({ service }) => service.retrieve(id));
  }

  @Patch(':id')
  @ApiUpdateLostReason()
  update(@Param('id') id: string, @LostReasonBody() body: unknown, @Req() request: object, @Res({ passthrough: true }) response: object) {
    return this.requests.run(request, response, ({ service }) => service.update(id, body as UpdateLostReasonDto));
  }

  @Delete(':id')
  @ApiDeleteLostReason()
  delete(@Param('id') id: string, @Req() request: object, @Res({ passthrough: true }) response: object) {
    return this.requests.run(request, response, ({ service }) => service.delete(id));
  }
}

/**
 * A controller class for one registration: its path and guards come from the module's
 * options, and a decorator's path is fixed when the class is declared.
 */
export function createLostReasonController(path: string, guards: Array<CanActivate | Type<CanActivate>>): Type<LostReasonControllerBase> {
  @Controller(path)
  @UseGuards(...guards)
  @UseFilters(LostReasonExceptionFilter)
  class LostReasonController extends LostReasonControllerBase {
    constructor(requests: LostReasonRequestRunner, idempotency: LostReasonIdempotency) {
      super(requests, idempotency);
    }
  }
  return LostReasonController;
}
