/**
 * The build journal: one JSON line per finished member (its stream already renamed into place) or stored object,
 * appended and flushed before the next member starts. A writer killed mid-line leaves a torn last line, which
 * readers skip; a member whose line or stream is missing or does not match is simply built again. A member with lines
 * in several journals (built again, or by two writers) is taken from the last line its stream on disk matches.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ArchiveObject, type JournalLine, type MemberEntry, JOURNAL_DIR, JournalLine as JournalLineSchema, journalPath, sha256 } from './format.ts';
import { makeFolder } from '../files/folders.ts';
import { readRegularFileSync } from '../files/regular.ts';

export function appendJournal(dir: string, writer: string, line: JournalLine): void {
  const path = journalPath(dir, writer);
  makeFolder(dirname(path));
  const fd = openSync(path, 'a');
  try {
    // a line starts on a fresh line even after a torn one
    writeSync(fd, `\n${JSON.stringify(line)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface JournalState {
  members: Map<string, MemberEntry>;
  /** every line of each member, in reading order (a member built again, or by two writers, has several) */
  memberLines: Map<string, MemberEntry[]>;
  objects: Map<string, Omit<ArchiveObject, 'usedBy'>>;
}

/** Every journal of the archive (members: the last line of each; memberLines: all); torn or unreadable lines are skipped. */
export function readJournals(dir: string): JournalState {
  const state: JournalState = { members: new Map(), memberLines: new Map(), objects: new Map() };
  const jdir = join(dir, JOURNAL_DIR);
  if (!existsSync(jdir)) return state;
  for (const name of readdirSync(jdir).filter((n) => n.endsWith('.jsonl')).sort()) {
    let journal: string;
    try {
      journal = readRegularFileSync(join(jdir, name)).toString('utf8');
    } catch {
      continue; // not a journal this build wrote (a folder or pipe of that name): its lines are none
    }
    for (const text of journal.split('\n')) {
      if (!text.trim()) continue;
      let parsed;
      try {
        parsed = JournalLineSchema.safeParse(JSON.parse(text));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      const line = parsed.data;
      if (line.type === 'member') {
        state.members.set(line.member.id, line.member);
        state.memberLines.set(line.member.id, [...(state.memberLines.get(line.member.id) ?? []), line.member]);
      } else state.objects.set(line.object.hash, line.object);
    }
  }
  return state;
}

/** Whether a file in the archive is there with this sha256. */
export function fileMatches(dir: string, rel: string, hash: string, bytes?: number): boolean {
  const p = join(dir, rel);
  if (!existsSync(p)) return false;
  let b: Buffer;
  try {
    b = readRegularFileSync(p);
  } catch {
    return false;
  }
  return (bytes === undefined || b.length === bytes) && sha256(b) === hash;
}
