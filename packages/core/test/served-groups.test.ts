import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DEFAULT_TENANT_ID, SupportGroupRepository } from '@topicdesk/data';
import { countedQueries } from './support/counted-queries';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import { ServedGroups } from '../src/index';

const GROUP = -1001000000500;
const NEW_GROUP = -1001000000501;
const STRANGER = -1001000000599;

let fixture: UnitOfWorkFixture;
beforeEach(async () => {
  fixture = await unitOfWorkFixture('core-served-groups');
});
afterEach(async () => {
  vi.useRealTimers();
  await fixture.close();
});

it('serves a group registered a moment after the list was read, from its first update', async () => {
  const groups = new ServedGroups(fixture.database.db, GROUP);
  expect(await groups.has(GROUP)).toBe(true);
  expect(await groups.has(NEW_GROUP)).toBe(false);
  expect(await groups.all()).toEqual([GROUP]);

  // Registered through the admin API while the list read a moment ago is still fresh: the
  // first update from it (more than a second after it was last found unknown) is served.
  await new SupportGroupRepository(fixture.database.db).upsert({
    tenantId: DEFAULT_TENANT_ID,
    chatId: NEW_GROUP,
    level: 2,
  });
  vi.useFakeTimers({ now: Date.now() + 1_100, toFake: ['Date'] });
  expect(await groups.has(NEW_GROUP)).toBe(true);
  expect(await groups.all()).toEqual([GROUP, NEW_GROUP]);
});

it('costs a chat that is not ours at most one lookup a second, and no query for a known group', async () => {
  const counted = countedQueries(fixture.database.db);
  const groups = new ServedGroups(counted.db, GROUP);
  expect(await groups.has(GROUP)).toBe(true);
  await groups.all();
  counted.queries.length = 0;

  for (let i = 0; i < 50; i++) expect(await groups.has(STRANGER)).toBe(false);
  expect(counted.queries).toHaveLength(1);

  vi.useFakeTimers({ now: Date.now() + 1_100, toFake: ['Date'] });
  expect(await groups.has(STRANGER)).toBe(false);
  expect(counted.queries).toHaveLength(2);
  expect(await groups.has(GROUP)).toBe(true);
  expect(counted.queries).toHaveLength(2);
});
