import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import {
  DEFAULT_TENANT_ID,
  rewrapTenantKeys,
  ServiceTokenIndex,
  TenantDirectory,
  TenantKeyring,
  TenantService,
  type DB,
  type Kysely,
  type TenantConfig,
  type UnitOfWork,
} from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import type { GatewayConfig } from './config';
import { ErrorCode, GatewayError } from './errors';

/** The gateway's tenants: the platform API's service and this replica's cache of them. */
export interface GatewayTenants {
  readonly directory: TenantDirectory;
  readonly service: TenantService;
  /** The tenant whose bundle's `serviceToken` is `token` (any status), or undefined. */
  byServiceToken(token: string): Promise<TenantConfig | undefined>;
  /** Throws TENANT_INACTIVE unless the tenant exists and is active (cached; hot-reloaded). */
  served(tenantId?: string): Promise<void>;
  /**
   * The tenant a new conversation goes to: the one whose public site key the widget sent, the
   * default tenant without one. Throws SITE_KEY_UNKNOWN, TENANT_INACTIVE, or ORIGIN_NOT_ALLOWED
   * when the page's Origin is not among the tenant's allowed origins.
   */
  forVisitor(siteKey: string | undefined, origin: string | undefined): Promise<TenantConfig>;
  /** The tenant's token secret (its bundle's `jwtSecret`), undefined when none is set. */
  jwtSecret(tenantId: string): Promise<string | undefined>;
  /** Rewraps every tenant's data key with TENANT_KEK (audited as the platform's). */
  rewrap(): Promise<{
    kekId: string;
    rewrapped: string[];
    failed: Array<{ tenantId: string; error: unknown }>;
  }>;
  /** Resolves once this replica hears `tenant.changed` (changes elsewhere reach it). */
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * The tenants of one gateway replica: a change through the platform API drops the tenant here at
 * once and, through the `tenant.changed` signal, on every other replica (and bridge). A tenant
 * found inactive after a change is handed to `inactive` (its open sockets are closed).
 */
export function gatewayTenants(deps: {
  config: GatewayConfig;
  db: Kysely<DB>;
  uow: UnitOfWork;
  bus: Bus;
  logger: Logger;
  inactive: (tenantId: string) => void;
}): GatewayTenants {
  const keyring = TenantKeyring.fromEnv(deps.config.TENANT_KEK, deps.config.TENANT_KEKS_PREVIOUS);
  const directory = new TenantDirectory({ db: deps.db, keyring, logger: deps.logger });
  const serviceTokens = new ServiceTokenIndex({ db: deps.db, directory, logger: deps.logger });
  /** Reads a changed tenant again; one that stopped being served loses its open sockets. */
  const changed = (tenantId: string) => {
    directory.drop(tenantId);
    serviceTokens.invalidate();
    directory.get(tenantId).then(
      (tenant) => {
        if (tenant?.status !== 'active') deps.inactive(tenantId);
      },
      (error: unknown) => deps.logger.warn({ err: error, tenantId }, 'a changed tenant unread'),
    );
  };
  const subscription: SignalSubscription = deps.bus.onSignal(topics.tenantChanged, (signal) =>
    changed(signal.tenantId),
  );
  const service = new TenantService(deps.uow, keyring, (tenantId) => {
    changed(tenantId);
    deps.bus.signal(topics.tenantChanged, { tenantId });
  });
  return {
    directory,
    service,
    ready: subscription.ready,
    byServiceToken: (token) => serviceTokens.find(token),
    async served(tenantId = DEFAULT_TENANT_ID) {
      const tenant = await directory.get(tenantId);
      if (tenant?.status !== 'active')
        throw new GatewayError(
          ErrorCode.TENANT_INACTIVE,
          'this site does not offer support chat at the moment',
        );
    },
    async forVisitor(siteKey, origin) {
      const tenant =
        siteKey === undefined
          ? await directory.get(DEFAULT_TENANT_ID)
          : await directory.bySiteKey(siteKey);
      if (!tenant && siteKey !== undefined)
        throw new GatewayError(ErrorCode.SITE_KEY_UNKNOWN, 'no site has this site key');
      if (tenant?.status !== 'active')
        throw new GatewayError(
          ErrorCode.TENANT_INACTIVE,
          'this site does not offer support chat at the moment',
        );
      assertOriginAllowed(tenant, origin);
      return tenant;
    },
    async jwtSecret(tenantId) {
      return (await directory.get(tenantId))?.secrets().jwtSecret;
    },
    async rewrap() {
      const kekId = keyring.current?.id;
      if (kekId === undefined)
        throw new GatewayError(ErrorCode.TENANT_KEK_MISSING, 'TENANT_KEK is not set');
      const result = await rewrapTenantKeys(deps.db, keyring, {
        actor: { type: 'platform', id: 'platform-token' },
      });
      for (const tenantId of result.rewrapped) {
        directory.drop(tenantId);
        serviceTokens.invalidate();
        deps.bus.signal(topics.tenantChanged, { tenantId });
      }
      return { kekId, ...result };
    },
    close: () => subscription.stop(),
  };
}

/**
 * A tenant with allowed origins serves pages of those origins only (on top of the deployment's
 * ALLOWED_ORIGINS); one without any (or with `*`), every origin the deployment allows. A request without
 * Origin is no browser's page, and passes (as it does ALLOWED_ORIGINS).
 */
export function assertOriginAllowed(
  tenant: Pick<TenantConfig, 'allowedOrigins'>,
  origin: string | undefined,
): void {
  const allowed = tenant.allowedOrigins;
  if (origin === undefined || allowed.length === 0 || allowed.includes('*')) return;
  if (!allowed.includes(origin))
    throw new GatewayError(
      ErrorCode.ORIGIN_NOT_ALLOWED,
      "this site's chat is not offered on this origin",
    );
}
