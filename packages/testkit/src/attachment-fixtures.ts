import sharp from 'sharp';

/** A JPEG photo carrying a GPS position in its EXIF, as a phone writes it. */
export function jpegWithGps(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#3a7' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'T1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 2964/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 17/1 4024/100',
      },
    })
    .toBuffer();
}

/** A small PDF (the head is what type sniffing reads). */
export const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

/** The head of a Windows executable (MZ, then the PE header), whatever its name says. */
export function executable(): Buffer {
  const exe = Buffer.alloc(512);
  exe.write('MZ', 0);
  exe.writeUInt32LE(0x80, 0x3c);
  exe.write('PE\0\0', 0x80, 'latin1');
  return exe;
}

/** The head of an Ogg Opus voice note, as Telegram's voice messages are (enough to sniff). */
export function oggOpus(): Buffer {
  const voice = Buffer.alloc(256);
  voice.write('OggS', 0, 'latin1');
  voice.write('OpusHead', 28, 'latin1');
  return voice;
}
