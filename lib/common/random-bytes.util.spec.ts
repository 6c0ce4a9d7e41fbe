import { randomBytesFromPool } from './random-bytes.util';

describe('randomBytesFromPool', () => {
  it('hands out the sizes asked for, never the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytesFromPool(i % 2 === 0 ? 16 : 32);
      expect(bytes).toHaveLength(i % 2 === 0 ? 16 : 32);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(2000);
  });

  it('returns copies: a later draw never changes bytes handed out earlier', () => {
    const first = randomBytesFromPool(16);
    const snapshot = Buffer.from(first);
    for (let i = 0; i < 600; i++) randomBytesFromPool(16); // more than one pool's worth
    expect(first.equals(snapshot)).toBe(true);
  });
});
