/**
 * `fieldpack runs show ID` as a person reads it: what ran (kind, name, status, times), its parameters, the
 * latest value of each metric (curves: the last step and how many steps), tags, artifacts and the end of the
 * log. `--json` prints the raw record instead.
 */
import type { RunDetail } from '../../api/contract.ts';
import { formatTable } from './io.ts';

const LOG_TAIL = 12;

function value(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function bytes(n: number | null): string {
  if (n === null) return '-';
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

function seconds(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const s = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(s) ? ` (${s.toFixed(1)} s)` : '';
}

export function formatRunSummary(r: RunDetail): string[] {
  const lines = [
    `run ${r.id}: ${r.name}`,
    `  kind ${r.kind}, status ${r.status}${r.status === 'running' ? ` ${Math.round(r.progress * 100)} %` : ''}${r.projectId !== null ? `, project ${r.projectId}` : ''}`,
    `  created ${r.createdAt.slice(0, 19)}${r.startedAt ? `, started ${r.startedAt.slice(0, 19)}` : ''}${r.endedAt ? `, ended ${r.endedAt.slice(0, 19)}${seconds(r.startedAt, r.endedAt)}` : ''}`,
  ];
  if (r.message) lines.push(`  message: ${r.message}`);
  if (r.error) lines.push(`  error (${r.error.code}): ${r.error.message}`);
  const params = Object.entries(r.params);
  if (params.length) lines.push('', 'parameters:', ...params.map(([k, v]) => `  ${k}: ${value(v)}`));
  // latest value per metric key; a curve says how many steps it has
  const byKey = new Map<string, { value: unknown; step: number; steps: number }>();
  for (const m of r.metrics) {
    const prev = byKey.get(m.key);
    if (!prev || m.step >= prev.step) byKey.set(m.key, { value: m.value, step: m.step, steps: (prev?.steps ?? 0) + 1 });
    else prev.steps++;
  }
  if (byKey.size) {
    lines.push('', 'metrics:');
    lines.push(...formatTable(['metric', 'value', 'step'], [...byKey.entries()].map(([k, m]) => [k, value(m.value), m.steps > 1 ? `${m.step} (${m.steps} steps)` : String(m.step)])).split('\n').map((l) => `  ${l}`));
  }
  const tags = Object.entries(r.tags);
  if (tags.length) lines.push('', 'tags:', ...tags.map(([k, v]) => `  ${k}: ${v}`));
  if (r.artifacts.length) lines.push('', 'artifacts:', ...r.artifacts.map((a) => `  ${a.kind}  ${bytes(a.sizeBytes)}  ${a.path}`));
  if (r.logs.length) {
    const tail = r.logs.slice(-LOG_TAIL);
    lines.push('', `log${r.logs.length > LOG_TAIL ? ` (last ${LOG_TAIL} of ${r.logs.length} lines)` : ''}:`, ...tail.map((l) => `  ${l}`));
  }
  return lines;
}
