import { describe, expect, it } from 'vitest';
import { loadTelemetryConfig } from './config';
import { DEFAULT_TENANT_LABELS, OTHER_TENANTS, TenantLabels } from './tenant-label';

describe('the bounded tenant label', () => {
  it('labels the first tenants seen by their id and every later one _other', () => {
    const labels = new TenantLabels(2);
    expect(labels.label('default')).toBe('default');
    expect(labels.label('acme')).toBe('acme');
    expect(labels.label('globex')).toBe(OTHER_TENANTS);
    expect(labels.label('initech')).toBe(OTHER_TENANTS);
    // Those labelled keep their label, however many others came since.
    expect(labels.label('acme')).toBe('acme');
    expect(labels.label('default')).toBe('default');
    expect(labels.size).toBe(2);
  });

  it('keeps at most the limit of distinct values, whatever the number of tenants', () => {
    const labels = new TenantLabels(50);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(labels.label(`t-${i % 5000}`));
    expect(seen.size).toBe(51);
    expect(seen).toContain(OTHER_TENANTS);
  });

  it('never names a tenant _other: tenant ids start with a letter or digit', () => {
    expect(/^[a-z0-9][a-z0-9-]{1,62}$/.test(OTHER_TENANTS)).toBe(false);
  });

  it('labels nobody by id with a limit of 0, and a raised limit labels new tenants only', () => {
    const labels = new TenantLabels(0);
    expect(labels.label('default')).toBe(OTHER_TENANTS);
    labels.setLimit(1);
    expect(labels.label('acme')).toBe('acme');
    expect(labels.label('default')).toBe(OTHER_TENANTS);
  });

  it('reads METRICS_TENANT_LABELS, 50 by default', () => {
    expect(loadTelemetryConfig({}).METRICS_TENANT_LABELS).toBe(DEFAULT_TENANT_LABELS);
    expect(loadTelemetryConfig({ METRICS_TENANT_LABELS: '5' }).METRICS_TENANT_LABELS).toBe(5);
    expect(() => loadTelemetryConfig({ METRICS_TENANT_LABELS: '-1' })).toThrow(
      /METRICS_TENANT_LABELS/,
    );
  });
});
