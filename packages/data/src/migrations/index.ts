import type { Migration } from 'kysely';
import * as m0001 from './0001_initial';
import * as m0002 from './0002_agents_side';
import * as m0003 from './0003_telegram_private_chats';
import * as m0004 from './0004_support_groups';
import * as m0005 from './0005_telegram_senders';
import * as m0006 from './0006_dead_letters';
import * as m0007 from './0007_conversation_token_generation';
import * as m0008 from './0008_visitor_template_locales';
import * as m0009 from './0009_conversation_visitor_email';
import * as m0010 from './0010_visitor_read';
import * as m0011 from './0011_agents_team';
import * as m0012 from './0012_csat_reports';
import * as m0013 from './0013_attachments';
import * as m0014 from './0014_conversations_hot_updates';
import * as m0015 from './0015_escalation';
import * as m0016 from './0016_sla';
import * as m0017 from './0017_private_chat_files';
import * as m0018 from './0018_console_access';
import * as m0019 from './0019_data_requests';
import * as m0020 from './0020_console_reads';
import * as m0021 from './0021_visitor_append_function';
import * as m0022 from './0022_bot_channels';
import * as m0023 from './0023_tenants_platform';
import * as m0024 from './0024_tenant_keys';
import * as m0025 from './0025_group_segments';

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
  '0006_dead_letters': m0006,
  '0007_conversation_token_generation': m0007,
  '0008_visitor_template_locales': m0008,
  '0009_conversation_visitor_email': m0009,
  '0010_visitor_read': m0010,
  '0011_agents_team': m0011,
  '0012_csat_reports': m0012,
  '0013_attachments': m0013,
  '0014_conversations_hot_updates': m0014,
  '0015_escalation': m0015,
  '0016_sla': m0016,
  '0017_private_chat_files': m0017,
  '0018_console_access': m0018,
  '0019_data_requests': m0019,
  '0020_console_reads': m0020,
  '0021_visitor_append_function': m0021,
  '0022_bot_channels': m0022,
  '0023_tenants_platform': m0023,
  '0024_tenant_keys': m0024,
  '0025_group_segments': m0025,
};
