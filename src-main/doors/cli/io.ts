/** Terminal output for the CLI: plain lines on stdout, errors and a progress line on stderr. */
import type { CliIO } from './command.ts';

/**
 * Text for the terminal with its control characters shown as \uNNNN (tabs and line breaks kept; JSON output stays
 * JSON with the same values): run names, notes, tags, project and variable names come from users and imported files,
 * and an escape sequence in one cleared the screen or set the window's title when listed.
 */
export function printable(text: string): string {
  // also the bidirectional overrides and isolates (U+202A-202E, U+2066-2069): "evil\u202Ecod.nc" read as another name
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function terminalIO(): CliIO {
  const tty = Boolean(process.stderr.isTTY);
  let lastPercent = -1;
  let drawn = false;
  return {
    out: (line) => process.stdout.write(printable(line) + '\n'),
    err: (line) => process.stderr.write(printable(line) + '\n'),
    progress(fraction, message) {
      message = printable(message);
      const pct = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
      if (tty) {
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        const text = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}% ${message}`;
        process.stderr.write('\r' + text.slice(0, (process.stderr.columns ?? 100) - 1).padEnd(Math.min(100, (process.stderr.columns ?? 100) - 1)));
        drawn = true;
      } else if (pct >= lastPercent + 10 || pct === 100) {
        process.stderr.write(`${String(pct).padStart(3)}% ${message}\n`);
        lastPercent = pct;
      }
    },
    progressDone() {
      if (drawn) process.stderr.write('\n');
      drawn = false;
      lastPercent = -1;
    },
  };
}

/** A fixed-width text table. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (/^-?[\d.]+(e[-+]?\d+)?%?$/i.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
