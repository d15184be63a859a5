/**
 * Counts and lists in messages (errors, progress, CLI lines), pure: shared by services and doors.
 */

/** Names in a message: the first `most` of them, then how many more (the full list belongs in the error's details). */
export function firstNames(names: readonly string[], most: number, separator = ', '): string {
  return names.length <= most ? names.join(separator) : `${names.slice(0, most).join(separator)}${separator}and ${names.length - most} more`;
}

/** "1 member", "3 members": a count with its noun in the right number (nouns whose plural adds -s). */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
