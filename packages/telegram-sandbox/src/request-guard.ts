import type { FastifyReply, FastifyRequest } from 'fastify';
import { sandboxError, type SandboxError } from './errors';

// The sandbox holds visitors' names and texts and can post into the support group, and it
// runs on the operator's machine: any page open in their browser can send it requests.
// These checks keep such pages out (issue 12, item 9) while bots, tests and curl — which
// send no Origin and name the host they connect to — keep working:
// - Host must be a loopback name or address, or a host the sandbox was told it serves:
//   a DNS-rebinding page reaches 127.0.0.1 under its own name, and is refused here.
// - A browser's cross-site request is refused: an Origin naming another host, `null`, or
//   `Sec-Fetch-Site: cross-site` (which browsers also send on no-cors GETs like <img>).
// - The control API takes only application/json, which a page cannot send cross-origin
//   without a CORS preflight (that the sandbox never grants).

const LOOPBACK_NAMES = new Set(['localhost', '[::1]']);
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '[::]', '::']);

/** The hostname of a Host header or host name (port dropped, IPv6 in brackets); undefined if malformed. */
export function hostnameOf(host: string): string | undefined {
  if (host === '' || /[\s/\\?#@]/.test(host)) return undefined;
  try {
    // URL normalises what resolvers accept too: `127.1`, `2130706433` and `LOCALHOST.`.
    return new URL(`http://${host}`).hostname.replace(/\.$/, '').toLowerCase();
  } catch {
    // Not a host at all (a bad port, stray brackets): refused by the caller, not an error.
    return undefined;
  }
}

function isLoopback(hostname: string): boolean {
  return (
    LOOPBACK_NAMES.has(hostname) || hostname.endsWith('.localhost') || IPV4_LOOPBACK.test(hostname)
  );
}

/** Host names a sandbox answers to besides loopback ones; wildcard listen addresses name no host. */
export function allowedHostSet(hosts: readonly string[] = []): ReadonlySet<string> {
  const names = new Set<string>();
  for (const host of hosts) {
    if (WILDCARD_ADDRESSES.has(host)) continue;
    // A bare IPv6 address (`--host ::1`) is written in brackets in a Host header.
    const hostname = hostnameOf(host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);
    if (hostname) names.add(hostname);
  }
  return names;
}

export function isAllowedHost(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  const hostname = host === undefined ? undefined : hostnameOf(host);
  return hostname !== undefined && (isLoopback(hostname) || allowed.has(hostname));
}

/** Refusal of a request naming a Host the sandbox does not serve (DNS rebinding). */
export function hostRefusal(
  request: FastifyRequest,
  allowed: ReadonlySet<string>,
): SandboxError | undefined {
  return isAllowedHost(request.headers.host, allowed)
    ? undefined
    : sandboxError('HOST_NOT_ALLOWED');
}

/** Refusal of a request a browser page may have forged, or undefined to let it through. */
export function browserRefusal(
  request: FastifyRequest,
  allowed: ReadonlySet<string>,
): SandboxError | undefined {
  const host = hostRefusal(request, allowed);
  if (host) return host;
  const origin = request.headers.origin;
  if (origin !== undefined && !isAllowedOrigin(origin, allowed)) {
    return sandboxError('ORIGIN_NOT_ALLOWED');
  }
  if (request.headers['sec-fetch-site'] === 'cross-site') return sandboxError('ORIGIN_NOT_ALLOWED');
  return undefined;
}

function isAllowedOrigin(origin: string, allowed: ReadonlySet<string>): boolean {
  if (!/^https?:\/\//i.test(origin)) return false; // `null` (sandboxed frames, file:), other schemes
  return isAllowedHost(origin.replace(/^https?:\/\//i, ''), allowed);
}

/** The control API's JSON requirement: a POST must say application/json. */
export function mediaTypeRefusal(request: FastifyRequest): SandboxError | undefined {
  if (request.method !== 'POST') return undefined;
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json' ? undefined : sandboxError('UNSUPPORTED_MEDIA_TYPE');
}

/** An onRequest hook that answers a refusal with the context's error body. */
export function refuseWith(
  check: (request: FastifyRequest) => SandboxError | undefined,
  body: (error: SandboxError) => unknown,
) {
  return async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> => {
    const refusal = check(request);
    // Returning the reply tells fastify the request is answered and goes no further.
    if (refusal) return reply.code(refusal.status).send(body(refusal));
    return undefined;
  };
}
