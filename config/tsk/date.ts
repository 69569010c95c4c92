// @date: PHP date() formatting in one pass over the format, in local time.
// Every PHP format letter is supported; `\x` outputs x literally; other characters are copied.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

const pad = (n: number, w: number): string => String(Math.abs(Math.trunc(n))).padStart(w, '0');

function year4(y: number): string {
  return (y < 0 ? '-' : '') + pad(y, 4);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function utcDay(y: number, m: number, d: number): Date {
  const x = new Date(0);
  x.setUTCFullYear(y, m, d);
  return x;
}

/** isoWeek returns the ISO-8601 week number and week-based year of a calendar date. */
function isoWeek(y: number, m: number, d: number): { week: number; year: number } {
  const date = utcDay(y, m, d);
  const dow = (date.getUTCDay() + 6) % 7; // Monday = 0
  date.setUTCDate(date.getUTCDate() - dow + 3); // Thursday of the same ISO week
  const year = date.getUTCFullYear();
  const jan4 = utcDay(year, 0, 4);
  const jan4dow = (jan4.getUTCDay() + 6) % 7;
  const week = 1 + Math.round((date.getTime() - jan4.getTime()) / 86_400_000 / 7 - (3 - jan4dow) / 7);
  return { week, year };
}

/** offset formats the local UTC offset: +0200 (sep '') or +02:00 (sep ':'). */
function offset(d: Date, sep: string): string {
  const east = -d.getTimezoneOffset();
  return (east < 0 ? '-' : '+') + pad(Math.floor(Math.abs(east) / 60), 2) + sep + pad(Math.abs(east) % 60, 2);
}

function isDst(d: Date): boolean {
  const y = d.getFullYear();
  const jan = new Date(y, 0, 1).getTimezoneOffset();
  const jul = new Date(y, 6, 1).getTimezoneOffset();
  return jan !== jul && d.getTimezoneOffset() < Math.max(jan, jul);
}

function zoneId(): string {
  const tz = process.env.TZ;
  if (tz && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return tz;
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function zoneAbbr(d: Date): string {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(d)
      .find((p) => p.type === 'timeZoneName');
    const name = part?.value ?? '';
    if (name !== '' && !/^(GMT|UTC)[+-]/.test(name)) return name;
  } catch {
    // fall through to the numeric form
  }
  const o = offset(d, '');
  return o.endsWith('00') ? o.slice(0, 3) : o;
}

function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
}

/** memoized computes the (costly, Intl-based) zone names once per format call. */
function memoized(memo: Map<string, string>, key: string, f: () => string): string {
  let v = memo.get(key);
  if (v === undefined) {
    v = f();
    memo.set(key, v);
  }
  return v;
}

/** letter formats one PHP date() letter, or returns null when c is not a format letter. */
function letter(c: string, d: Date, memo: Map<string, string>): string | null {
  const y = d.getFullYear();
  const mo = d.getMonth();
  const day = d.getDate();
  const dow = d.getDay();
  const h = d.getHours();
  switch (c) {
    case 'd':
      return pad(day, 2);
    case 'D':
      return DAYS[dow].slice(0, 3);
    case 'j':
      return String(day);
    case 'l':
      return DAYS[dow];
    case 'N':
      return String(dow === 0 ? 7 : dow);
    case 'S':
      return ordinal(day);
    case 'w':
      return String(dow);
    case 'z':
      return String(Math.round((utcDay(y, mo, day).getTime() - utcDay(y, 0, 1).getTime()) / 86_400_000));
    case 'W':
      return pad(isoWeek(y, mo, day).week, 2);
    case 'F':
      return MONTHS[mo];
    case 'm':
      return pad(mo + 1, 2);
    case 'M':
      return MONTHS[mo].slice(0, 3);
    case 'n':
      return String(mo + 1);
    case 't':
      return String(utcDay(y, mo + 1, 0).getUTCDate());
    case 'L':
      return isLeap(y) ? '1' : '0';
    case 'o':
      return year4(isoWeek(y, mo, day).year);
    case 'X':
      return (y < 0 ? '-' : '+') + pad(y, 4);
    case 'x':
      return y < 0 ? '-' + pad(y, 4) : y >= 10000 ? '+' + pad(y, 4) : pad(y, 4);
    case 'Y':
      return year4(y);
    case 'y':
      return pad(Math.abs(y) % 100, 2);
    case 'a':
      return h < 12 ? 'am' : 'pm';
    case 'A':
      return h < 12 ? 'AM' : 'PM';
    case 'B': {
      const secs = d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
      return pad(Math.floor(((secs + 3600) % 86_400) / 86.4), 3);
    }
    case 'g':
      return String(h % 12 || 12);
    case 'G':
      return String(h);
    case 'h':
      return pad(h % 12 || 12, 2);
    case 'H':
      return pad(h, 2);
    case 'i':
      return pad(d.getMinutes(), 2);
    case 's':
      return pad(d.getSeconds(), 2);
    case 'u':
      return pad(d.getMilliseconds() * 1000, 6);
    case 'v':
      return pad(d.getMilliseconds(), 3);
    case 'e':
      return memoized(memo, 'e', zoneId);
    case 'I':
      return isDst(d) ? '1' : '0';
    case 'O':
      return offset(d, '');
    case 'P':
      return offset(d, ':');
    case 'p':
      return d.getTimezoneOffset() === 0 ? 'Z' : offset(d, ':');
    case 'T':
      return memoized(memo, 'T', () => zoneAbbr(d));
    case 'Z':
      return String(-d.getTimezoneOffset() * 60);
    case 'c':
      return formatDate('Y-m-d\\TH:i:sP', d);
    case 'r':
      return formatDate('D, d M Y H:i:s O', d);
    case 'U':
      return String(Math.floor(d.getTime() / 1000));
    default:
      return null;
  }
}

/** formatDate formats d with a PHP date() format string. */
export function formatDate(format: string, d: Date): string {
  const memo = new Map<string, string>();
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '\\') {
      if (i + 1 < format.length) out += format[++i];
      continue;
    }
    out += letter(c, d, memo) ?? c;
  }
  return out;
}
