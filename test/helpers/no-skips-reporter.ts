/**
 * A vitest reporter that lists every skipped or todo test at the end of a run, and on CI (env CI set,
 * as `.ci/run` does) fails the run when there is any: a machine set up by `.ci/run` has every package
 * and data file the tests need, so a skip there means a test that did not check what it claims.
 *
 * The reason for a skip is in the test's name, by convention "(needs ...)", or in the note given to
 * `ctx.skip(note)`. Runs filtered by name (-t) skip the other tests on purpose and are not failed.
 */
import { relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

const onCi = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

export default class NoSkipsReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, _errors: ReadonlyArray<unknown>, reason: TestRunEndReason): void {
    if (reason === 'interrupted') return;
    const skipped: TestCase[] = [];
    for (const m of testModules) for (const t of m.children.allTests()) if (t.result().state === 'skipped') skipped.push(t);
    if (skipped.length === 0) return;
    const root = this.vitest?.config.root ?? process.cwd();
    const lines = skipped.map((t) => {
      const r = t.result();
      const note = r.state === 'skipped' && r.note ? ` -- ${r.note}` : '';
      const mode = t.options.mode === 'todo' ? ' [todo]' : '';
      return `  [${t.project.name}] ${relative(root, t.module.moduleId)} > ${t.fullName}${mode}${note}`;
    });
    const filtered = !!this.vitest?.config.testNamePattern;
    const log = (s: string) => (this.vitest ? this.vitest.logger.error(s) : console.error(s));
    if (onCi() && !filtered) {
      log(`\nFAIL: ${skipped.length} test(s) skipped; on CI every test must run (.ci/run installs what they need):\n${lines.join('\n')}\n`);
      process.exitCode = 1;
    } else {
      log(`\n${skipped.length} test(s) skipped${filtered ? ' (name filter)' : ''}:\n${lines.join('\n')}\n`);
    }
  }
}
