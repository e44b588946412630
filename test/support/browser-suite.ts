import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { launchBrowser, skipBrowser } from './browser';
import { startCluster, type Cluster, type ClusterOptions } from './cluster';

export interface BrowserSuite {
  readonly cluster: Cluster;
  readonly browser: Browser;
  /** The first gateway's URL. */
  readonly gateway: string;
  /** A new context (closed after the test), 1280×800 unless `options` say otherwise. */
  context(options?: Parameters<Browser['newContext']>[0]): Promise<BrowserContext>;
}

/**
 * A cluster (one gateway, generous Telegram budgets unless `options` say otherwise) and a
 * headless Chromium for one test file; the contexts a test makes are closed after it.
 */
export function browserSuite(options: ClusterOptions = {}): BrowserSuite {
  let cluster: Cluster | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    cluster = await startCluster({
      gateways: 1,
      ...options,
      bridgeEnv: {
        TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000',
        TELEGRAM_LIMIT_CHAT_PER_SECOND: '50',
        ...options.bridgeEnv,
      },
    });
    if (!skipBrowser) browser = await launchBrowser();
  }, 180_000);
  afterEach(async () => {
    await Promise.allSettled(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('the cluster is not started yet');
      return cluster;
    },
    get browser() {
      if (!browser) throw new Error('no browser');
      return browser;
    },
    get gateway() {
      return this.cluster.gateways[0]!.url;
    },
    async context(contextOptions = {}) {
      const ctx = await this.browser.newContext({
        viewport: { width: 1280, height: 800 },
        ...contextOptions,
      });
      contexts.push(ctx);
      return ctx;
    },
  };
}
