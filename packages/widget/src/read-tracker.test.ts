import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadTracker } from './read-tracker';
import type { ChatItem } from './timeline';

/** The page as the tracker sees it: visibility, and an IntersectionObserver tests drive. */
class FakeObserver {
  static current: FakeObserver | undefined;
  readonly observed = new Set<object>();
  constructor(readonly callback: (entries: unknown[]) => void) {
    FakeObserver.current = this;
  }
  observe(el: object) {
    this.observed.add(el);
  }
  unobserve(el: object) {
    this.observed.delete(el);
  }
  disconnect() {
    this.observed.clear();
  }
  /** `el` scrolled into view (ratio 1) or out of it. */
  show(el: object, visible: boolean) {
    this.callback([
      {
        target: el,
        isIntersecting: visible,
        intersectionRatio: visible ? 1 : 0,
        intersectionRect: { height: visible ? 40 : 0 },
        rootBounds: { height: 400 },
      },
    ]);
  }
}

const agent = (seq: number): ChatItem => ({
  id: `s:${seq}`,
  kind: 'agent',
  text: 'hi',
  seq,
  at: '',
});
const visitor = (seq: number): ChatItem => ({
  id: `s:${seq}`,
  kind: 'visitor',
  text: 'q',
  seq,
  at: '',
});

describe('ReadTracker', () => {
  let page: { visibilityState: string; listeners: Map<string, () => void> };
  let open: boolean;
  let online: boolean;
  let sent: number[];
  const rows = new Map<string, object>();
  const row = (item: ChatItem) => {
    let el = rows.get(item.id);
    if (!el) rows.set(item.id, (el = { id: item.id }));
    return el as Element;
  };
  let tracker: ReadTracker;
  const observer = () => FakeObserver.current as FakeObserver;

  beforeEach(() => {
    vi.useFakeTimers();
    page = { visibilityState: 'visible', listeners: new Map() };
    vi.stubGlobal('document', {
      get visibilityState() {
        return page.visibilityState;
      },
      addEventListener: (type: string, fn: () => void) => page.listeners.set(type, fn),
      removeEventListener: (type: string) => page.listeners.delete(type),
    });
    vi.stubGlobal('IntersectionObserver', FakeObserver);
    open = true;
    online = true;
    sent = [];
    tracker = new ReadTracker({} as Element, {
      open: () => open,
      row,
      send: (seq) => online && sent.push(seq) > 0,
    });
  });

  afterEach(() => {
    tracker.destroy();
    vi.unstubAllGlobals();
    vi.useRealTimers();
    rows.clear();
  });

  it('tells the newest agent message about a second after it came into view, once', () => {
    tracker.follow([visitor(1), agent(2), visitor(3)]);
    vi.advanceTimersByTime(2_000);
    expect(sent).toEqual([]);
    observer().show(row(agent(2)), true);
    vi.advanceTimersByTime(900);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(sent).toEqual([2]);
    // Renders and scrolling again change nothing: the seq did not grow.
    tracker.follow([visitor(1), agent(2), visitor(3), visitor(4)]);
    observer().show(row(agent(2)), false);
    observer().show(row(agent(2)), true);
    vi.advanceTimersByTime(2_000);
    expect(sent).toEqual([2]);
  });

  it('waits for the panel to be open and the page to be visible', () => {
    open = false;
    page.visibilityState = 'hidden';
    tracker.follow([agent(1)]);
    observer().show(row(agent(1)), true);
    vi.advanceTimersByTime(2_000);
    expect(sent).toEqual([]);
    open = true;
    tracker.check();
    vi.advanceTimersByTime(2_000);
    expect(sent).toEqual([]);
    page.visibilityState = 'visible';
    page.listeners.get('visibilitychange')?.();
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([1]);
  });

  it('tells one frame for a burst of replies, the newest', () => {
    tracker.follow([agent(1)]);
    observer().show(row(agent(1)), true);
    vi.advanceTimersByTime(300);
    tracker.follow([agent(1), agent(2)]);
    observer().show(row(agent(2)), true);
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([2]);
    expect([...observer().observed]).toEqual([row(agent(2))]);
  });

  it('keeps only the latest seq while the socket is down and tells it once it opens', () => {
    online = false;
    tracker.follow([agent(1)]);
    observer().show(row(agent(1)), true);
    vi.advanceTimersByTime(1_100);
    tracker.follow([agent(1), agent(2)]);
    observer().show(row(agent(2)), true);
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([]);
    online = true;
    tracker.flush();
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([2]);
    tracker.flush();
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([2]);
  });

  it('starts again for a new conversation', () => {
    tracker.follow([agent(3)]);
    observer().show(row(agent(3)), true);
    vi.advanceTimersByTime(1_100);
    tracker.reset();
    rows.clear();
    tracker.follow([agent(1)]);
    observer().show(row(agent(1)), true);
    vi.advanceTimersByTime(1_100);
    expect(sent).toEqual([3, 1]);
  });
});
