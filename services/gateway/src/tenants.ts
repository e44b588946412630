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
