import { describe, expect, it } from 'vitest';
import { escalationGroup, routeToGroup, type RoutableGroup } from './group-routing';

const group = (chatId: number, locales: string[], extra: Partial<RoutableGroup> = {}) => ({
  chat_id: chatId,
  level: 1,
  locales,
  active: true,
  ...extra,
});

const GERMAN = group(-1001, ['de']);
const AUSTRIAN = group(-1002, ['de-AT']);
const FRENCH = group(-1003, ['fr', 'fr-CA']);

describe('routeToGroup', () => {
  it('sends a conversation to the group listing its exact tag, whatever the case', () => {
    expect(routeToGroup([GERMAN, AUSTRIAN], 'de-at')).toBe(-1002);
    expect(routeToGroup([GERMAN, AUSTRIAN], 'DE')).toBe(-1001);
    expect(routeToGroup([FRENCH], 'fr-ca')).toBe(-1003);
  });

  it('prefers an exact tag in a later group over a language match in an earlier one', () => {
    expect(routeToGroup([GERMAN, AUSTRIAN], 'de-AT')).toBe(-1002);
  });

  it('falls back to the primary language subtag in both directions', () => {
    expect(routeToGroup([GERMAN], 'de-AT')).toBe(-1001);
    expect(routeToGroup([AUSTRIAN], 'de')).toBe(-1002);
    expect(routeToGroup([AUSTRIAN], 'de-CH')).toBe(-1002);
  });

  it('takes the first matching group when several list the locale', () => {
    const second = group(-1004, ['de']);
    expect(routeToGroup([GERMAN, second], 'de')).toBe(-1001);
    expect(routeToGroup([second, GERMAN], 'de')).toBe(-1004);
  });

  it('skips inactive groups and groups above level 1', () => {
    expect(routeToGroup([group(-1001, ['de'], { active: false }), AUSTRIAN], 'de')).toBe(-1002);
    expect(routeToGroup([group(-1001, ['de'], { level: 2 })], 'de')).toBeNull();
  });

  it('uses the default group (null) when nothing matches', () => {
    expect(routeToGroup([GERMAN, FRENCH], 'es')).toBeNull();
    expect(routeToGroup([group(-1005, [])], 'en')).toBeNull();
    expect(routeToGroup([], 'de')).toBeNull();
  });

  it('uses the default group for an absent or malformed locale', () => {
    for (const locale of [undefined, null, '', '  ', 'd', 'de_AT', '*', 'de-', '12', 'de--AT']) {
      expect(routeToGroup([GERMAN, group(-1006, ['de_AT'])], locale)).toBeNull();
    }
  });

  it('does not match a language against a malformed tag listed by a group', () => {
    expect(routeToGroup([group(-1007, ['de_AT'])], 'de')).toBeNull();
  });
});

describe('escalationGroup', () => {
  const L2 = group(-2001, [], { level: 2 });
  const L2_GERMAN = group(-2002, ['de'], { level: 2 });
  const L3 = group(-3001, [], { level: 3 });

  it('takes the first active group of the level when no locale matches', () => {
    expect(escalationGroup([GERMAN, L2, L2_GERMAN, L3], 2, 'fr')).toBe(-2001);
    expect(escalationGroup([L2, L3], 3, null)).toBe(-3001);
  });

  it('prefers the group of the level that the locale routes to', () => {
    expect(escalationGroup([L2, L2_GERMAN], 2, 'de-AT')).toBe(-2002);
  });

  it('is null when the level has no active group of its own', () => {
    expect(escalationGroup([GERMAN, L2], 3, 'de')).toBeNull();
    expect(escalationGroup([{ ...L2, active: false }], 2, null)).toBeNull();
  });
});
