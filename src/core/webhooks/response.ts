/** What an adapter sends back to Stripe. */
export interface WebhookResponse {
  status: number;
  body: { received: true; type: string } | { error: string };
}
