import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@topicdesk/testkit';
import {
  createDatabase,
  DEFAULT_TENANT_ID,
  migrateToLatest,
  TemplateRepository,
  type Database,
} from '../src/index';

describe('system lines in the conversation’s locale', () => {
  let testDb: TestDatabase;
  let database: Database;
  let templates: TemplateRepository;
  beforeAll(async () => {
    testDb = await createTestDatabase('data');
    database = await createDatabase({ url: testDb.url });
    await migrateToLatest(database.db);
    templates = new TemplateRepository(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });

  const text = async (key: string, locale: string | null) =>
    (await templates.resolve(DEFAULT_TENANT_ID, key, locale))?.text;

  it('has the welcome, joined, closed and reopened lines in Arabic and German, with the default flags', async () => {
    expect(await text('welcome', 'ar')).toMatch(/^شكرًا/);
    expect(await text('welcome', 'ar-EG')).toMatch(/\{ticket\}/);
    expect(await text('agent_joined', 'de-AT')).toBe('{agent} ist dem Gespräch beigetreten.');
    expect(await text('closed_note', 'ar')).toMatch(/المحادثة/);
    expect(await text('reopened', 'de')).toBe('Das Gespräch wurde wieder geöffnet.');
    const [ar, en] = await Promise.all([
      templates.resolve(DEFAULT_TENANT_ID, 'auto_closed', 'ar'),
      templates.resolve(DEFAULT_TENANT_ID, 'auto_closed', null),
    ]);
    expect({ ...ar, locale: '', text: '', updated_at: null }).toEqual({
      ...en,
      locale: '',
      text: '',
      updated_at: null,
    });
  });

  it('falls back to English for other locales, and the closing line no longer says "write again"', async () => {
    expect(await text('welcome', 'fr')).toMatch(/^Thanks for writing!/);
    expect(await text('closed_note', 'ja')).toBe(
      'This conversation was closed. You can start a new one at any time.',
    );
  });
});
