import { describe, expect, it } from 'vitest';
import { TitleBadge, type TitlePage } from './title-badge';

/** A page whose title and visibility a test sets; `site` changes the title as a site would. */
function fakePage(title = 'Shop · Northwind') {
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const fn of [...watchers]) fn();
  };
  const page = {
    title,
    hidden: false,
    watch(fn: () => void) {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
    get watching() {
      return watchers.size;
    },
    /** The site sets its own title (the observer runs after it, as a MutationObserver does). */
    site(value: string) {
      page.title = value;
      notify();
    },
    setHidden(hidden: boolean) {
      page.hidden = hidden;
      notify();
    },
    /** After the badge set the title: the observer sees its own change too. */
    observe: notify,
  };
  return page satisfies TitlePage;
}

function setup(options: { open?: boolean; hidden?: boolean; title?: string } = {}) {
  const page = fakePage(options.title);
  page.hidden = options.hidden ?? false;
  const state = { open: options.open ?? false, now: 0 };
  const badge = new TitleBadge(
    page,
    () => state.open,
    '({n}) {title}',
    () => state.now,
  );
  return { page, state, badge };
}

describe('TitleBadge', () => {
  it('counts messages in the title while the panel is closed, and restores the title exactly when the visitor opens it', () => {
    const { page, state, badge } = setup({ title: '  Shop  ·  Northwind ' });
    badge.add();
    expect(page.title).toBe('(1)   Shop  ·  Northwind ');
    page.observe();
    badge.add();
    badge.add();
    expect(page.title).toBe('(3)   Shop  ·  Northwind ');
    state.open = true;
    badge.check();
    expect(page.title).toBe('  Shop  ·  Northwind ');
    expect(badge.count).toBe(0);
    expect(page.watching).toBe(0);
  });

  it('counts while the page is hidden with the panel open, and clears when the page shows again', () => {
    const { page, badge } = setup({ open: true, hidden: true });
    badge.add();
    expect(page.title).toBe('(1) Shop · Northwind');
    page.setHidden(false);
    expect(page.title).toBe('Shop · Northwind');
    expect(badge.count).toBe(0);
  });

  it('counts nothing while the visitor sees the chat (page visible, panel open)', () => {
    const { page, badge } = setup({ open: true });
    badge.add();
    expect(page.title).toBe('Shop · Northwind');
    expect(badge.count).toBe(0);
    expect(page.watching).toBe(0);
  });

  it('stays while the page shows again with the panel still closed', () => {
    const { page, badge } = setup({ hidden: true });
    badge.add();
    page.setHidden(false);
    expect(page.title).toBe('(1) Shop · Northwind');
    badge.check();
    expect(page.title).toBe('(1) Shop · Northwind');
  });

  it('keeps the site’s latest title under the prefix, and leaves that title when it clears', () => {
    const { page, state, badge } = setup();
    badge.add();
    page.site('Checkout · Northwind');
    expect(page.title).toBe('(1) Checkout · Northwind');
    badge.add();
    expect(page.title).toBe('(2) Checkout · Northwind');
    state.open = true;
    badge.check();
    expect(page.title).toBe('Checkout · Northwind');
  });

  it('takes a title the site set just before the next message as its title', () => {
    const { page, state, badge } = setup();
    badge.add();
    // Set, but the observer has not run yet.
    page.title = 'Cart';
    badge.add();
    expect(page.title).toBe('(2) Cart');
    state.open = true;
    badge.check();
    expect(page.title).toBe('Cart');
  });

  it('does not put back a title the site changed after the visitor looked (nothing to restore then)', () => {
    const { page, state, badge } = setup();
    badge.add();
    page.title = 'Changed by the site';
    state.open = true;
    badge.clear();
    expect(page.title).toBe('Changed by the site');
  });

  it('gives up within a second against a site that keeps taking the prefix away, and comes back with the next message', () => {
    const { page, badge } = setup();
    badge.add();
    let rounds = 0;
    // A site whose own observer strips the prefix every time it appears.
    const strip = () => {
      while (page.title.startsWith('(') && rounds < 100) {
        rounds++;
        page.site('Shop · Northwind');
      }
    };
    strip();
    expect(rounds).toBe(6);
    expect(page.title).toBe('Shop · Northwind');
    badge.add();
    expect(page.title).toBe('(2) Shop · Northwind');
  });

  it('restores the title on clear (destroy) whatever the panel and page do', () => {
    const { page, badge } = setup({ hidden: true });
    badge.add();
    badge.clear();
    expect(page.title).toBe('Shop · Northwind');
    expect(page.watching).toBe(0);
  });

  it('shows the count in the locale’s words', () => {
    const { page, badge } = setup();
    badge.add();
    badge.setTemplate('{title} ({n} neu)');
    expect(page.title).toBe('Shop · Northwind (1 neu)');
  });
});
