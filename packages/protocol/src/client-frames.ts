import { z } from 'zod';
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_SEQ } from './text-rules';

/**
 * The frames a visitor's client sends on `GET /v1/ws` (JSON text, one object per frame). The
 * gateway parses every frame with this schema; a frame that does not match gets an `error`
 * frame (INVALID_REQUEST) and the socket stays open.
 */

export const clientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    clientId: z.string().min(1).max(100),
    /** Checked after parsing (length, blank, control characters): each has its own error. */
    text: z.string(),
    /**
     * Files uploaded through `POST /v1/conversations/:id/attachments`, in order: the message is
     * stored only once every one passed the checks (else an `error` frame with the file's code,
     * and nothing is stored). With attachments, `text` is their caption and may be empty.
     */
    attachments: z.array(z.string().uuid()).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
  }),
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('resume'), afterSeq: z.number().int().min(0).max(MAX_SEQ) }),
  /**
   * The visitor has seen the conversation up to `seq` (the panel is open, the page visible, the
   * newest agent message in view). A seq beyond the conversation's last is refused with an
   * `error` frame (INVALID_REQUEST); the agents see it in the topic, the visitor nothing.
   */
  z.object({ type: z.literal('read'), seq: z.number().int().min(1).max(MAX_SEQ) }),
]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
