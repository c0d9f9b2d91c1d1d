import { flat, jsonString, jsonText, millisecondsText } from './json-line.js';

describe('millisecondsText', () => {
  it('prints what Math.round(seconds * 1e6) / 1e3 prints, for every microsecond of a second and beyond', () => {
    const samples: number[] = [];
    for (let us = 0; us < 1_000_000; us += 7) samples.push(us / 1e6);
    samples.push(
      0,
      1e-7,
      4e-7,
      5e-7,
      0.0015,
      1.5,
      2,
      59.999999,
      3600.25,
      86_400.000_001,
      1e9 + 0.123,
    );
    for (const s of samples) expect(millisecondsText(s)).toBe(String(Math.round(s * 1e6) / 1e3));
  });

  it('falls back to the general conversion outside its range', () => {
    for (const s of [-0.5, 1e12, Infinity, NaN]) {
      expect(millisecondsText(s)).toBe(String(Math.round(s * 1e6) / 1e3));
    }
  });
});

describe('jsonString', () => {
  it.each([
    '',
    'plain',
    'quote"',
    'back\\slash',
    'new\nline',
    '\u0000',
    '\u001f',
    '\u007f',
    '\ud800 lone',
    'lone \udc00',
    'pair \ud83d\ude00',
    'é ✓',
  ])('gives what JSON.stringify gives for %j', (s) =>
    expect(jsonString(s)).toBe(JSON.stringify(s)),
  );

  it('gives what JSON.stringify gives for every UTF-16 code unit between two letters', () => {
    const wrong: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const s = `a${String.fromCharCode(c)}b`;
      if (jsonString(s) !== JSON.stringify(s)) wrong.push(c);
      if (`"${jsonText(s)}"` !== JSON.stringify(s)) wrong.push(c);
    }
    expect(wrong).toEqual([]);
  });
});

describe('flat', () => {
  it('keeps every code unit, lone surrogates and pairs included', () => {
    const all = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)).join('');
    const rope = `${all.slice(0, 30000)}😀${all.slice(30000)}` + '\ud800';
    expect(flat(rope)).toBe(rope);
    expect(flat('')).toBe('');
  });
});
