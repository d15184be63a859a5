import { callApi } from '../api.ts';
import { CliUsageError, flag, parseFlags, type CliCommand } from '../command.ts';

/** `fieldpack report RUN... -o report.html [--pdf report.pdf]`: the same report as Compare's button. */
export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'write a self-contained HTML report (and a PDF) of runs: tables, charts, provenance, parameters',
  usage: [
    'fieldpack report RUN... -o REPORT.html [--pdf [REPORT.pdf]] [--title TEXT]',
    '  RUN: run ids (`fieldpack runs list`); charts and maps inline, no network; the PDF is printed by Chromium headless.',
  ].join('\n'),
  async run(argv, ctx) {
    // --pdf with no value (or followed by another flag) means: beside the HTML
    const args = argv.flatMap((a, i) => (a === '-o' ? ['--out'] : a === '--pdf' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-') || /^\d+$/.test(argv[i + 1]!)) ? ['--pdf=true'] : [a]));
    const p = parseFlags(args, { values: ['out', 'pdf', 'title'] });
    // each run once, in the order given (a run named twice was reported twice)
    const runIds = [...new Set(p.positionals.map((x) => {
      const id = Number(x);
      if (!Number.isInteger(id) || id <= 0) throw new CliUsageError(`"${x}" is not a run id (fieldpack runs list shows them)`);
      return id;
    }))];
    const out = flag(p, 'out');
    if (!runIds.length) throw new CliUsageError('no run ids given (fieldpack runs list shows them)');
    if (!out) throw new CliUsageError('-o REPORT.html is missing: where to write the report');
    const pdfFlag = flag(p, 'pdf');
    const r = await callApi(ctx, 'reports.create', { runIds, path: out, pdf: pdfFlag === undefined ? false : pdfFlag === 'true' ? true : pdfFlag, title: flag(p, 'title') });
    ctx.io.out(`report: ${r.htmlPath} (${r.bytes} bytes)${r.pdfPath ? `; PDF ${r.pdfPath} (${r.pdfPages} page${r.pdfPages === 1 ? '' : 's'})` : ''}`);
    return 0;
  },
};
