import { randomBase62, randomHex } from './random-bytes.util';

describe('random text from the pool', () => {
  it('hands out hex of the sizes asked for, never the same twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const hex = randomHex(i % 2 === 0 ? 16 : 32);
      expect(hex).toMatch(i % 2 === 0 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{64}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(2000);
  });

  it('hands out base62 of the length asked for, using the whole alphabet about evenly', () => {
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const text = randomBase62(20);
      expect(text).toMatch(/^[0-9A-Za-z]{20}$/);
      seen.add(text);
      for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(seen.size).toBe(5000);
    expect(counts.size).toBe(62);
    // 100,000 characters: about 1,613 each; a skewed (modulo-biased) draw would be off by ~25 %.
    for (const count of counts.values()) expect(Math.abs(count - 100_000 / 62)).toBeLessThan(250);
    expect(randomBase62(1)).toHaveLength(1);
    expect(() => randomBase62(65)).toThrow(RangeError);
  });

  it('returns strings that later draws never change (the pool is reused)', () => {
    const first = randomBase62(20);
    const copy = `${first}`;
    for (let i = 0; i < 600; i++) randomHex(16); // more than one pool's worth
    expect(first).toBe(copy);
  });
});
