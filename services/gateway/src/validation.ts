import { ErrorCode, GatewayError } from './errors';

/**
 * Validates with a zod schema; a mismatch is INVALID_REQUEST with every issue listed, each
 * labelled with the field's path, or with `where` (`body`, `query`, a path parameter's name)
 * when the value itself is wrong.
 */
export function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
  value: unknown,
  where = 'body',
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new GatewayError(ErrorCode.INVALID_REQUEST, 'the request does not match the API', {
    issues: result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || where}: ${i.message}`,
    ),
  });
}
