/**
 * A Server-Sent Events stream as it arrives (the console's overview): `next(name)` takes the
 * first event of that name not taken yet, `until` takes them until one matches.
 */
export function readEventStream(body: ReadableStream<Uint8Array>) {
  const events: Array<{ name: string; data: unknown; taken: boolean }> = [];
  let comments = 0;
  let buffer = '';
  const reader = body.getReader();
  const closed = (async () => {
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) comments++;
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) events.push({ name, data: JSON.parse(data), taken: false });
      }
    }
  })();
  const waitFor = async <T>(found: () => T | undefined | false, ms = 10_000): Promise<T> => {
    for (const until = Date.now() + ms; Date.now() < until;) {
      const value = found();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('not in time');
  };
  return {
    /** Settles when the server ends the stream (or `cancel` does). */
    closed,
    /** Stops reading and drops the connection, as a browser leaving the page. */
    cancel: () => reader.cancel(),
    get comments() {
      return comments;
    },
    waitFor,
    count: (name: string) => events.filter((e) => e.name === name).length,
    /** Takes events of that name until one matches; answers it. */
    async until<T>(name: string, matches: (data: T) => boolean): Promise<T> {
      for (;;) {
        const data = (await this.next(name)) as T;
        if (matches(data)) return data;
      }
    },
    async next(name: string): Promise<unknown> {
      const event = await waitFor(() => events.find((e) => e.name === name && !e.taken));
      event.taken = true;
      return event.data;
    },
  };
}
