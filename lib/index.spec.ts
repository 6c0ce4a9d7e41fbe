import { join } from 'node:path';
import * as ts from 'typescript';
import * as api from './index';

/**
 * The public API, name by name: what `import … from 'nestjs-lost-reason'` offers. A name added to
 * or removed from lib/index.ts fails here, so a change of the public surface is always deliberate
 * (and goes in the CHANGELOG).
 */
const VALUES = [
  // module, service, per-data-source token and decorator
  'LostReasonModule',
  'LostReasonService',
  'getLostReasonServiceToken',
  'InjectLostReasonService',
  // defaults of the options, limits of the API
  'LOST_REASON_DEFAULTS',
  'LIST_LIMIT_DEFAULT',
  'LIST_LIMIT_MAX',
  'LOST_REASON_ID_PREFIX',
  'LOST_REASON_MAX_LENGTH',
  // objects, parameters, the error body
  'CreateLostReasonDto',
  'DeletedLostReason',
  'ListLostReasonsDto',
  'LostReasonError',
  'LostReasonList',
  'LostReasonObject',
  'UpdateLostReasonDto',
  // errors and the filter
  'AuthenticationException',
  'IdempotencyException',
  'InvalidRequestException',
  'LostReasonAlreadyExistsException',
  'LostReasonConstraintException',
  'LostReasonInUseException',
  'LostReasonModuleOptionsError',
  'LostReasonNotFoundException',
  'LostReasonExceptionFilter',
  // schema
  'LostReason',
  'LostReasonIdempotencyKey',
  'LOST_REASON_ENTITIES',
  'LOST_REASON_MIGRATIONS',
  'CreateOpportunityLostReason1764115200000',
  'AddTenantToOpportunityLostReason1764201600000',
  'CreateOpportunityLostReasonIdempotency1764288000000',
  'CountOpportunityLostReasons1764374400000',
  'StoreIdempotencyTenantsAsHex1764460800000',
  'ShardCountsByNode1764547200000',
  'recountLostReasons',
  'assignUntenantedLostReasons',
  'unassignLostReasons',
  // headers and shapes clients see
  'IDEMPOTENCY_KEY_HEADER',
  'IDEMPOTENCY_KEY_MAX_LENGTH',
  'IDEMPOTENT_REPLAYED_HEADER',
  'REQUEST_ID_HEADER',
  'REQUEST_ID_PATTERN',
];

/** Names that exist only as types (erased from the JavaScript). */
const TYPES = [
  'LostReasonModuleOptions',
  'LostReasonModuleExtras',
  'LostReasonModuleOptionsFactory',
  'LostReasonApiKeyVerifier',
  'LostReasonHooks',
  'LostReasonHookContext',
  'LostReasonTenantResolver',
];

const sorted = (names: Iterable<string>): string[] => [...names].sort();

describe('the public API (lib/index.ts)', () => {
  it('exports exactly these values', () => {
    expect(sorted(Object.keys(api))).toEqual(sorted(VALUES));
  });

  it('exports exactly these names, types included, and no `export *`', () => {
    const index = join(__dirname, 'index.ts');
    const program = ts.createProgram([index], { strict: true, experimentalDecorators: true, emitDecoratorMetadata: true, noEmit: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(index)!;
    const names = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).map((symbol) => symbol.getName());
    expect(sorted(names)).toEqual(sorted([...VALUES, ...TYPES]));
    const wholeModules = source.statements.filter((statement) => ts.isExportDeclaration(statement) && !statement.exportClause);
    expect(wholeModules.map((statement) => statement.getText(source))).toEqual([]);
  });

  it('offers no deprecated alias and no internal timing constant or token', () => {
    for (const name of [
      'DEFAULT_LOST_REASON_PATH',
      'DEFAULT_REQUEST_TIMEOUT_MS',
      'IDEMPOTENCY_KEY_TTL_MS',
      'IDEMPOTENCY_KEY_LOCK_TIMEOUT_MS',
      'LOST_REASON_RESOLVED_OPTIONS',
      'LOST_REASON_REPOSITORY',
      'LostReasonErrorDetail',
    ])
      expect(Object.keys(api)).not.toContain(name);
  });
});
