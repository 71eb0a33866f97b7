/**
 * Enough to catch a name typed into the email field, or two addresses in one; the inbox is the
 * real check. One rule for partners added by the merchant and for applicants alike.
 */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

export function isEmailAddress(text: string): boolean {
  return EMAIL.test(text);
}
