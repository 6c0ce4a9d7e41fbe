import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { apiKeysFromEnv } from '../database-options';

/** The usual hand-rolled bearer check. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys = new Set(apiKeysFromEnv());

  canActivate(context: ExecutionContext): boolean {
    const header: string | undefined = context.switchToHttp().getRequest().headers.authorization;
    if (!header?.startsWith('Bearer ') || !this.keys.has(header.slice(7).trim())) throw new UnauthorizedException();
    return true;
  }
}
