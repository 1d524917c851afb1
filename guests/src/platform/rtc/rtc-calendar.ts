/** How register B asks the time registers to be encoded. */
export interface TimeEncoding {
  /** Register B DM: binary instead of BCD. */
  binary: boolean;
  /** Register B 24/12: 24-hour instead of 12-hour with the PM flag in bit 7. */
  twentyFourHour: boolean;
}

/** The clock's registers as a calendar, before encoding. */
export interface CalendarTime {
  second: number;
  minute: number;
  hour: number;
  /** 1 = Sunday, as the MC146818 counts. */
  dayOfWeek: number;
  dayOfMonth: number;
  month: number;
  /** Full year; register 9 holds its last two digits and CMOS 0x32 the century. */
  year: number;
}

const PM = 0x80;

export function encodeNumber(value: number, binary: boolean): number {
  return binary ? value & 0xff : ((Math.floor(value / 10) % 10) << 4) | (value % 10);
}

export function decodeNumber(raw: number, binary: boolean): number {
  return binary ? raw : (raw >> 4) * 10 + (raw & 0x0f);
}

export function encodeHour(hour: number, encoding: TimeEncoding): number {
  if (encoding.twentyFourHour) return encodeNumber(hour, encoding.binary);
  const twelve = hour % 12 === 0 ? 12 : hour % 12;
  return encodeNumber(twelve, encoding.binary) | (hour >= 12 ? PM : 0);
}

export function decodeHour(raw: number, encoding: TimeEncoding): number {
  if (encoding.twentyFourHour) return decodeNumber(raw, encoding.binary);
  const twelve = decodeNumber(raw & ~PM, encoding.binary) % 12;
  return raw & PM ? twelve + 12 : twelve;
}

export function calendarFromSeconds(seconds: number): CalendarTime {
  const date = new Date(seconds * 1000);
  return {
    second: date.getUTCSeconds(),
    minute: date.getUTCMinutes(),
    hour: date.getUTCHours(),
    dayOfWeek: date.getUTCDay() + 1,
    dayOfMonth: date.getUTCDate(),
    month: date.getUTCMonth() + 1,
    year: date.getUTCFullYear(),
  };
}

/** Seconds since 1970 for calendar fields; out-of-range fields carry over as the date arithmetic does. */
export function secondsFromCalendar(time: Omit<CalendarTime, "dayOfWeek">): number {
  const ms = Date.UTC(time.year, time.month - 1, time.dayOfMonth, time.hour, time.minute, time.second);
  // Date.UTC maps years 0-99 to 1900-1999; the RTC's century byte already made the year absolute.
  const fixed = new Date(ms);
  if (time.year >= 0 && time.year < 100) fixed.setUTCFullYear(time.year);
  return Math.floor(fixed.getTime() / 1000);
}
