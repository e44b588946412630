import { describe, expect, it } from 'vitest';
import type { Message } from 'grammy/types';
import { fileOf, formatBytes } from './telegram-files';

const base = {
  message_id: 5,
  date: Date.UTC(2026, 11, 6, 12) / 1000,
  chat: { id: -100, type: 'supergroup', title: 'Support' },
} as const;
const message = (fields: Partial<Message>) => ({ ...base, ...fields }) as Message;

describe('fileOf', () => {
  it('takes the largest size of a photo, whatever the order of the sizes', () => {
    const size = (id: string, width: number, height: number) => ({
      file_id: id,
      file_unique_id: `u-${id}`,
      width,
      height,
      file_size: width * height,
    });
    const file = fileOf(
      message({ photo: [size('mid', 320, 240), size('big', 1280, 960), size('thumb', 90, 67)] }),
    );
    expect(file).toEqual({
      fileId: 'big',
      fileUniqueId: 'u-big',
      name: 'photo-2026-12-06.jpg',
      type: 'image/jpeg',
      size: 1280 * 960,
    });
  });

  it('names a document by its own name and type, voice notes and videos by their kind', () => {
    expect(
      fileOf(
        message({
          document: {
            file_id: 'd',
            file_unique_id: 'ud',
            file_name: 'offer.pdf',
            mime_type: 'application/pdf',
          },
        }),
      ),
    ).toMatchObject({ fileId: 'd', name: 'offer.pdf', type: 'application/pdf', size: undefined });
    expect(
      fileOf(message({ voice: { file_id: 'v', file_unique_id: 'uv', duration: 2 } })),
    ).toMatchObject({ name: 'voice-2026-12-06.ogg', type: 'audio/ogg' });
    expect(
      fileOf(
        message({
          video: {
            file_id: 'm',
            file_unique_id: 'um',
            width: 1,
            height: 1,
            duration: 1,
            mime_type: 'video/mp4',
          },
        }),
      ),
    ).toMatchObject({ name: 'video-2026-12-06.mp4', type: 'video/mp4' });
  });

  it('has nothing for a text or a sticker', () => {
    expect(fileOf(message({ text: 'hi' }))).toBeUndefined();
    expect(
      fileOf(
        message({
          sticker: {
            file_id: 's',
            file_unique_id: 'us',
            type: 'regular',
            width: 1,
            height: 1,
            is_animated: false,
            is_video: false,
          },
        }),
      ),
    ).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it('says bytes, KB or MB', () => {
    expect([formatBytes(900), formatBytes(300_000), formatBytes(20 * 1024 * 1024)]).toEqual([
      '900 B',
      '293 KB',
      '20 MB',
    ]);
  });
});
