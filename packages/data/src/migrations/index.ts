import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_agents_side';
import * as m0003 from './0003_telegram_private_chats';
import * as m0004 from './0004_support_groups';
import * as m0005 from './0005_telegram_senders';

/**
 * Every migration, in order. Listed in code rather than read from a folder so that the
 * same list works under tsx, in a bundle and in one-process mode.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_agents_side': m0002,
  '0003_telegram_private_chats': m0003,
  '0004_support_groups': m0004,
  '0005_telegram_senders': m0005,
};
