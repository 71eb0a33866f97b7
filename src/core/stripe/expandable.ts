/** An expandable field of a Stripe object: an id, an expanded object, or nothing. */
export function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}
