import { CallHandler, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, timeout } from 'rxjs';
import { LOST_REASON_RESOLVED_OPTIONS } from './lost-reason.constants';
import { ResolvedLostReasonOptions } from './lost-reason.options';

/**
 * Bounds every request of the module's routes to `requestTimeoutMs`: past it, the handler's
 * result is no longer awaited and rxjs's `TimeoutError` is answered as a 503 `api_error` by the
 * module's exception filter. A stuck statement or an unreachable database can then never hold a
 * request forever. The statement itself is not cancelled: it may still complete on the database
 * (a write is one statement or one transaction, so it happens entirely or not at all).
 * Bound to the module's controller only.
 */
@Injectable()
export class LostReasonDeadlineInterceptor implements NestInterceptor {
  constructor(@Inject(LOST_REASON_RESOLVED_OPTIONS) private readonly options: ResolvedLostReasonOptions) {}

  intercept(_context: unknown, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(timeout({ first: this.options.requestTimeoutMs }));
  }
}
