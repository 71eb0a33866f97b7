/**
 * User agents that are not a person following a partner link: crawlers, link unfurlers and
 * HTTP libraries. Their visits record no click, so partners are not credited for a Slack preview.
 */
const BOT = new RegExp(
  [
    'bot\\b', 'bot/', 'crawl', 'spider', 'slurp', 'mediapartners', 'facebookexternalhit', 'embedly',
    'quora link preview', 'whatsapp', 'telegrambot', 'discordbot', 'slackbot', 'skypeuripreview',
    'bingpreview', 'headlesschrome', 'phantomjs', 'lighthouse', 'pingdom', 'uptimerobot',
    'curl/', 'wget/', 'python-requests', 'python-urllib', 'aiohttp', 'go-http-client', 'java/',
    'okhttp', 'axios/', 'node-fetch', 'undici', 'libwww-perl', 'httpclient', 'postmanruntime',
  ].join('|'),
  'i',
);

/** A missing user agent counts as a bot: every browser sends one. */
export function isBot(userAgent: string | undefined): boolean {
  return !userAgent || BOT.test(userAgent);
}
