/** Does the value contain Jinja (`{{`, `{%`, `{#`)? A plain boolean, so it does not narrow types away. */
export function hasTemplate(v: unknown): boolean {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%') || v.includes('{#'));
}
