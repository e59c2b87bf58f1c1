import { parseFilterTime } from './plivo-time.js';

export const DAY_MS = 86_400_000;

export interface TimeRange {
  gt?: Date;
  gte?: Date;
  lt?: Date;
  lte?: Date;
}

const OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;

/** The `<field>__gt|gte|lt|lte` filters of a list query, or with `separator` another spelling of them. */
export function timeRangeOf(query: Record<string, unknown>, field: string, separator = '__'): TimeRange {
  const range: TimeRange = {};
  for (const operator of OPERATORS) {
    const value = query[`${field}${separator}${operator}`];
    if (typeof value === 'string') range[operator] = parseFilterTime(value);
  }
  return range;
}

export const isEmptyRange = (range: TimeRange) => OPERATORS.every((operator) => range[operator] === undefined);
