import { Logger } from '@nestjs/common';

/**
 * `@nestjs/swagger` is an optional peer dependency: the module describes its API to it when the
 * host has installed it, and must load and serve without it. So it is never imported statically
 * (an `import` would fail at load time where it is missing); it is required once, here, and every
 * decorator falls back to a no-op.
 *
 * The option types are deliberately loose and local: a type imported from `@nestjs/swagger` would
 * make these declarations depend on a package the host may not have.
 */
type Options = Record<string, unknown>;
type AnyDecorator = ClassDecorator & MethodDecorator & PropertyDecorator;

/** The few `@nestjs/swagger` decorators the module uses. */
interface SwaggerDecorators {
  ApiBearerAuth(name?: string): ClassDecorator & MethodDecorator;
  ApiBody(options: Options): MethodDecorator;
  ApiHeader(options: Options): ClassDecorator & MethodDecorator;
  ApiOperation(options: Options): MethodDecorator;
  ApiParam(options: Options): MethodDecorator;
  ApiProperty(options?: Options): PropertyDecorator;
  ApiQuery(options: Options): MethodDecorator;
  ApiResponse(options: Options): ClassDecorator & MethodDecorator;
  ApiTags(...tags: string[]): ClassDecorator & MethodDecorator;
}

function loadSwagger(): SwaggerDecorators | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/swagger') as SwaggerDecorators;
  } catch (error) {
    // Not installed: the module works the same, only undocumented. Installed but not loadable
    // (say, @nestjs/swagger 12, ES modules only, on a Node.js without require(esm)): said once.
    const { code, message } = error as { code?: string; message?: string };
    if (code !== 'MODULE_NOT_FOUND' || !message?.includes("'@nestjs/swagger'")) {
      new Logger('LostReasonModule').warn(`@nestjs/swagger is installed but could not be loaded, so the API is not documented: ${message}`);
    }
    return undefined;
  }
}

const swagger = loadSwagger();
const noop = (): AnyDecorator => () => undefined;

/** True when `@nestjs/swagger` was found, i.e. when the decorators below record metadata. */
export const LOST_REASON_OPENAPI_ENABLED = swagger !== undefined;

/** `@ApiBearerAuth()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiBearerAuth: SwaggerDecorators['ApiBearerAuth'] = swagger?.ApiBearerAuth ?? noop;
/** `@ApiBody()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiBody: SwaggerDecorators['ApiBody'] = swagger?.ApiBody ?? noop;
/** `@ApiHeader()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiHeader: SwaggerDecorators['ApiHeader'] = swagger?.ApiHeader ?? noop;
/** `@ApiOperation()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiOperation: SwaggerDecorators['ApiOperation'] = swagger?.ApiOperation ?? noop;
/** `@ApiParam()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiParam: SwaggerDecorators['ApiParam'] = swagger?.ApiParam ?? noop;
/** `@ApiProperty()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiProperty: SwaggerDecorators['ApiProperty'] = swagger?.ApiProperty ?? noop;
/** `@ApiQuery()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiQuery: SwaggerDecorators['ApiQuery'] = swagger?.ApiQuery ?? noop;
/** `@ApiResponse()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiResponse: SwaggerDecorators['ApiResponse'] = swagger?.ApiResponse ?? noop;
/** `@ApiTags()` of `@nestjs/swagger`, or a no-op without it. */
export const ApiTags: SwaggerDecorators['ApiTags'] = swagger?.ApiTags ?? noop;

/** Where `@ApiExtension()` records a class's extensions (the same key in @nestjs/swagger 7 to 12). */
const API_EXTENSION_METADATA = 'swagger/apiExtension';

/**
 * JSON Schema keywords on a class's own schema, such as `additionalProperties: false`, or a no-op
 * without `@nestjs/swagger`. @nestjs/swagger 7 to 12 spread what `@ApiExtension()` records on a
 * class into the class's schema, but that decorator takes only `x-` keys, so the keywords are
 * recorded as it records them (`@ApiSchema()` takes them only from 11 on).
 */
export function ApiSchemaKeywords(keywords: Options): ClassDecorator {
  if (!swagger) return noop();
  return (target) => {
    Reflect.defineMetadata(API_EXTENSION_METADATA, { ...Reflect.getMetadata(API_EXTENSION_METADATA, target), ...keywords }, target);
  };
}
