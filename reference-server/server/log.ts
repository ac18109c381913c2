/** The server log, in redis-server's line format ("pid:role dd Mon yyyy hh:mm:ss.mmm <level-char> message"). */
import { appendFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';
export const LOG_LEVELS: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const LEVEL_CHAR: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class ServerLog {
  /** loglevel as a number; lines below it are dropped. */
  level: number;

  constructor(level: string, private readonly roleChar: () => string, private readonly logfile: () => string) {
    this.level = LOG_LEVELS[level as LogLevel] ?? LOG_LEVELS.notice;
  }

  setLevel(level: string): void {
    this.level = LOG_LEVELS[level as LogLevel];
  }

  log(level: LogLevel, msg: string): void {
    if (LOG_LEVELS[level] < this.level) return;
    this.write(level, msg);
  }

  /** Writes regardless of loglevel (startup and shutdown lines, as redis-server's serverLogRaw). */
  write(level: LogLevel, msg: string): void {
    const d = new Date();
    const p2 = (v: number) => String(v).padStart(2, '0');
    const line = `${process.pid}:${this.roleChar()} ${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
      `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')} ` +
      `${LEVEL_CHAR[level]} ${msg}\n`;
    this.append(line);
  }

  /** Redis's serverLogFromHandler: what a signal handler logs carries the unix time, not the date and level. */
  fromSignalHandler(msg: string): void {
    this.append(`${process.pid}:signal-handler (${Math.floor(Date.now() / 1000)}) ${msg}\n`);
  }

  private append(line: string): void {
    const file = this.logfile();
    if (file === '') process.stdout.write(line);
    else {
      try {
        appendFileSync(file, line);
      } catch {
        process.stdout.write(line);
      }
    }
  }
}
