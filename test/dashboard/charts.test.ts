import { describe, expect, it } from 'vitest';
import { timeSeriesChart, type SeriesPoint } from '../../src/dashboard/charts.js';

const DAY_MS = 86_400_000;
const days = (count: number, at: (i: number) => Omit<SeriesPoint, 'day'>): SeriesPoint[] =>
  Array.from({ length: count }, (_, i) => ({ day: new Date(Date.UTC(2026, 8, 8) + (i - count + 1) * DAY_MS), ...at(i) }));
const labels = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('the time-series chart', () => {
  it('scales the count axis to a round top with round ticks and gridlines, not to the raw maximum', () => {
    const svg = String(timeSeriesChart(days(30, (i) => ({ clicks: i === 10 ? 37 : 5, leads: 2, sales: 1 })), 'Chart'));
    expect(labels(svg).slice(0, 5)).toEqual(['0', '10', '20', '30', '40']);
    expect(svg.match(/stroke="#ddd"/g)).toHaveLength(4);
  });

  it('keeps whole-number ticks for tiny counts', () => {
    const svg = String(timeSeriesChart(days(30, () => ({ clicks: 2, leads: 1, sales: 0 })), 'Chart'));
    expect(labels(svg).slice(0, 3)).toEqual(['0', '1', '2']);
  });

  it('dates the x axis every two weeks on 90 days, ending on the last day', () => {
    const svg = String(timeSeriesChart(days(90, () => ({ clicks: 9, leads: 3, sales: 1 })), 'Chart'));
    const dates = labels(svg).filter((label) => /[A-Z][a-z]{2}$/.test(label!));
    expect(dates).toHaveLength(7);
    expect(dates.at(-1)).toBe('8 Sep');
    expect(dates[0]).toBe('16 Jun');
  });
});
