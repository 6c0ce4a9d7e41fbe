import { LoggerService } from '@nestjs/common';

/** Collects what an app logs, with levels, to look at the module's log lines. */
export class CollectingLogger implements LoggerService {
  readonly lines: string[] = [];
  readonly entries: Array<{ level: string; line: string }> = [];
  private collector =
    (level: string) =>
    (...parts: unknown[]) => {
      const line = parts.map((part) => (part instanceof Error ? String(part.stack) : String(part))).join(' ');
      this.lines.push(line);
      this.entries.push({ level, line });
    };
  log = this.collector('log');
  error = this.collector('error');
  warn = this.collector('warn');
  debug = this.collector('debug');
  verbose = this.collector('verbose');
  fatal = this.collector('fatal');

  clear(): void {
    this.lines.length = 0;
    this.entries.length = 0;
  }
}
