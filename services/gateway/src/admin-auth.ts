import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, GatewayError } from './errors';
import { bearerToken } from './tokens';

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Who is asking an admin route (the service token), or a 401/403: the check every admin route
 * makes first. The admin API is off while `serviceToken` is unset.
 */
export function adminActor(serviceToken: string | undefined) {
  return (request: FastifyRequest): string => {
    if (!serviceToken)
      throw new GatewayError(ErrorCode.FORBIDDEN, 'the admin API is off: set SERVICE_TOKEN');
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new GatewayError(ErrorCode.TOKEN_MISSING, 'the service token is required');
    if (!same(token, serviceToken))
      throw new GatewayError(ErrorCode.TOKEN_INVALID, 'wrong service token');
    return 'service-token';
  };
}
