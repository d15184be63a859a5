/** "1 field", "2 fields": a count with its noun in the right number (nouns whose plural adds -s). */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
