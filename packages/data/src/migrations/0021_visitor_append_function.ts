import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * A visitor's text message stored in one statement (issue 13, the gateway's round trips): the
 * row lock, the clientId look-up, the seq, the insert and its outbox rows, called outside a
 * transaction, so one round trip and one commit instead of BEGIN, lock, append, outbox rows,
 * COMMIT (`appendVisitorMessage` in conversation-log.ts). Postgres plans its statements once per
 * connection.
 *
 * The lock is a statement of its own, as in `appendMessage`: a volatile function takes a new
 * snapshot for each statement under READ COMMITTED, so the look-ups after the lock see what the
 * writer it waited for committed. The whole call commits or fails together.
 *
 * Outcomes (the `outcome` key): `stored` (with `message` and the `outbox` rows written),
 * `duplicate` (the clientId was stored before: `message` is that one; also when the
 * conversation is closed since), `closed`, `missing` (no such conversation in the tenant), and
 * `first`: the conversation holds no visitor message yet, so this one is answered with the
 * welcome; nothing is written and the caller stores it with the welcome in one transaction.
 *
 * `outbox` is a JSON array of `{ destination, topic, payload }`; a payload that has a `seq`
 * key gets the new message's seq (the visitor's `message` event, built before the seq is known).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function topicdesk_append_visitor_message(
      p_tenant_id text, p_conversation_id uuid, p_client_id text, p_text text,
      p_at timestamptz, p_outbox jsonb
    ) returns jsonb language plpgsql volatile as $$
    declare
      v_status text;
      v_seq integer;
      v_message messages;
      v_outbox jsonb;
    begin
      select status into v_status from conversations
        where tenant_id = p_tenant_id and id = p_conversation_id for update;
      if not found then
        return jsonb_build_object('outcome', 'missing');
      end if;
      select * into v_message from messages
        where conversation_id = p_conversation_id and client_id = p_client_id;
      if found then
        return jsonb_build_object('outcome', 'duplicate', 'message', to_jsonb(v_message));
      end if;
      if v_status = 'closed' then
        return jsonb_build_object('outcome', 'closed');
      end if;
      if not exists (
        select 1 from messages where conversation_id = p_conversation_id and kind = 'visitor'
      ) then
        return jsonb_build_object('outcome', 'first');
      end if;
      update conversations
        set last_seq = last_seq + 1, last_activity_at = p_at, updated_at = p_at
        where tenant_id = p_tenant_id and id = p_conversation_id
        returning last_seq into v_seq;
      insert into messages (tenant_id, conversation_id, seq, kind, text, client_id, delivery,
          created_at)
        values (p_tenant_id, p_conversation_id, v_seq, 'visitor', p_text, p_client_id, 'pending',
          p_at)
        returning * into v_message;
      with written as (
        insert into outbox (tenant_id, destination, topic, payload, created_at)
          select p_tenant_id, r ->> 'destination', r ->> 'topic',
            case when (r -> 'payload') ? 'seq'
              then jsonb_set(r -> 'payload', '{seq}', to_jsonb(v_seq))
              else r -> 'payload' end,
            p_at
          from jsonb_array_elements(p_outbox) with ordinality as e(r, n)
          order by n
          returning *
      )
      select coalesce(jsonb_agg(to_jsonb(written) order by written.id), '[]'::jsonb)
        into v_outbox from written;
      return jsonb_build_object('outcome', 'stored', 'message', to_jsonb(v_message),
        'outbox', v_outbox);
    end
    $$
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function topicdesk_append_visitor_message(text, uuid, text, text, timestamptz, jsonb)`.execute(
    db,
  );
}
