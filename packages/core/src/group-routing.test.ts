import { describe, expect, it } from 'vitest';
import { escalationGroup, routeToGroup, type RoutableGroup } from './group-routing';

const group = (chatId: number, locales: string[], extra: Partial<RoutableGroup> = {}) => ({
  chat_id: chatId,
  level: 1,
  locales,
  segments: [] as string[],
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

describe('routeToGroup by segment', () => {
  const VIP = group(-1101, [], { segments: ['vip'] });
  const VIP_FRENCH = group(-1102, ['fr'], { segments: ['vip', 'provider'] });

  it('prefers a group listing the segment over the group of the locale', () => {
    expect(routeToGroup([GERMAN, VIP], 'de', 'vip')).toBe(-1101);
    expect(routeToGroup([FRENCH, VIP_FRENCH], 'fr-CA', 'provider')).toBe(-1102);
  });

  it('takes a segment group with locales only for a conversation of those locales', () => {
    expect(routeToGroup([VIP_FRENCH, VIP], 'de', 'vip')).toBe(-1101);
    expect(routeToGroup([VIP_FRENCH, VIP], 'fr-BE', 'vip')).toBe(-1102);
    expect(routeToGroup([GERMAN, VIP_FRENCH], 'de-AT', 'provider')).toBe(-1001);
    expect(routeToGroup([VIP_FRENCH], undefined, 'provider')).toBeNull();
  });

  it('falls back to the locale rule, then the default group, when no group lists the segment', () => {
    expect(routeToGroup([GERMAN, VIP], 'de', 'client')).toBe(-1001);
    expect(routeToGroup([GERMAN, VIP], 'es', 'client')).toBeNull();
    expect(routeToGroup([VIP], null, null)).toBeNull();
  });

  it('matches the segment exactly, as the plugin passes it', () => {
    expect(routeToGroup([GERMAN, VIP], 'de', 'VIP')).toBe(-1001);
    expect(routeToGroup([VIP], 'de', 'vi')).toBeNull();
  });

  it('skips segment groups that are inactive or above level 1', () => {
    expect(routeToGroup([{ ...VIP, active: false }, GERMAN], 'de', 'vip')).toBe(-1001);
    expect(routeToGroup([{ ...VIP, level: 2 }], 'de', 'vip')).toBeNull();
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

  it('prefers the group of the level listing the segment', () => {
    const L2_VIP = group(-2003, [], { level: 2, segments: ['vip'] });
    expect(escalationGroup([L2, L2_GERMAN, L2_VIP], 2, 'de', 'vip')).toBe(-2003);
    expect(escalationGroup([L2, L2_GERMAN, L2_VIP], 2, 'de', 'client')).toBe(-2002);
    expect(escalationGroup([L2, L2_VIP], 2, null, 'client')).toBe(-2001);
  });

  it('is null when the level has no active group of its own', () => {
    expect(escalationGroup([GERMAN, L2], 3, 'de')).toBeNull();
    expect(escalationGroup([{ ...L2, active: false }], 2, null)).toBeNull();
  });
});
