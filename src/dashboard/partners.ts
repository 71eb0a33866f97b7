import { rewardFromText, type SaleReward } from '../core/commissions/rewards.js';
import type { PartnerGroup, PartnerWithCodes } from '../core/partners/partners.js';
import { html, type Html } from './html.js';
import { formFields, redirect, refusing, withCopyScript, type DashboardRequest, type DashboardResponse, type PageKit } from './kit.js';

const ACTIONS = ['update', 'disable', 'enable', 'add-code', 'remove-code', 'add-promo', 'remove-promo', 'reward', 'group', 'portal-link'] as const;
type Action = (typeof ACTIONS)[number];

const DONE: Record<string, string> = {
  created: 'Partner added.',
  update: 'Details saved.',
  disable: 'Partner disabled: their links record no clicks and credit no new customers.',
  enable: 'Partner enabled.',
  'add-code': 'Referral code added.',
  'remove-code': 'Referral code removed.',
  'add-promo': 'Promotion code added.',
  'remove-promo': 'Promotion code removed.',
  reward: 'Reward saved: it applies to customers whose first sale comes later.',
  group: 'Group saved.',
};

/**
 * The partner management pages: `/partners` (the list and a form to add one) and
 * `/partners/<id>/manage` (details, status, codes, promotion codes, reward, group, portal link),
 * each change a POST form with the dashboard's CSRF token.
 */
export function partnerPages(kit: PageKit) {
  const { attribution, basePath } = kit;
  const manageUrl = (id: string) => `${basePath}/partners/${encodeURIComponent(id)}/manage`;
  const programs = [...attribution.options.programs.keys()];

  /** A program choice, only when there is more than one program. */
  const programField = (id: string): Html =>
    programs.length < 2
      ? html``
      : html`<label for="${id}">Program</label> <select id="${id}" name="program">${programs.map((p) => html`<option value="${p}">${p}</option>`)}</select> `;

  const form = (action: string, csrf: string, fields: Html, button: string, label?: string): Html =>
    html`<form class="inline" method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}">${fields}<button type="submit"${label ? html` aria-label="${label}"` : ''}>${button}</button></form>`;

  async function list(request: DashboardRequest, url: URL, user: string): Promise<DashboardResponse> {
    const csrf = kit.csrfFor(request, url, user);
    const partners = await attribution.partners.list();
    return kit.page(200, 'Partners', html`${url.searchParams.get('done') === 'created' ? html`<p class="notice" role="status">${DONE.created}</p>` : ''}
<h2 id="add-h">Add a partner</h2>
<form method="post" action="${basePath}/partners" aria-labelledby="add-h" class="stack"><input type="hidden" name="csrf" value="${csrf.token}">
<p><label for="new-name">Name</label><br><input id="new-name" name="name" required autocomplete="off"></p>
<p><label for="new-email">Email <span class="muted">(optional)</span></label><br><input id="new-email" name="email" type="email" autocomplete="off"></p>
<p><label for="new-code">Referral code <span class="muted">(optional; a random one otherwise)</span></label><br><input id="new-code" name="code" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}" autocomplete="off"></p>
<p><button type="submit">Add partner</button></p></form>
<h2>All partners</h2>${partners.length === 0 ? html`<p>No partners yet.</p>` : html`<div class="scroll" tabindex="0" role="region" aria-label="Partners"><table><caption>Partners, by name</caption>
<thead><tr><th scope="col">Partner</th><th scope="col">Email</th><th scope="col">Status</th><th scope="col">Codes</th><th scope="col">Promotion codes</th></tr></thead>
<tbody>${partners.map((p) => html`<tr data-partner="${p.id}"><th scope="row"><a href="${manageUrl(p.id)}">${p.name}</a></th><td>${p.email ?? '—'}</td><td data-field="status">${p.status}</td><td>${p.codes.join(', ')}</td><td>${p.promotionCodes.join(', ')}</td></tr>`)}</tbody></table></div>`}`, csrf.setCookie);
  }

  async function create(request: DashboardRequest, user: string): Promise<DashboardResponse> {
    const fields = formFields(request.body);
    if (!kit.csrfValid(request, fields.get('csrf'), user)) return refused(kit);
    return refusing(kit, async () => {
      const code = fields.get('code')?.trim();
      const email = fields.get('email')?.trim();
      const partner = await attribution.partners.create({ name: fields.get('name') ?? '', ...(email ? { email } : {}), ...(code ? { code } : {}) });
      return redirect(kit, `${manageUrl(partner.id)}?done=created`);
    });
  }

  async function manage(request: DashboardRequest, url: URL, partnerId: string, user: string, portalLink?: string): Promise<DashboardResponse> {
    const partner = await attribution.partners.get(partnerId);
    if (!partner) return kit.text(404, 'No such partner.');
    const csrf = kit.csrfFor(request, url, user);
    const groups = await attribution.partners.groups.list();
    const done = DONE[url.searchParams.get('done') ?? ''];
    const act = (action: Action) => `${basePath}/partners/${encodeURIComponent(partner.id)}/${action}`;
    const content = html`${done && !portalLink ? html`<p class="notice" role="status">${done}</p>` : ''}
<p><a href="${basePath}/partners/${encodeURIComponent(partner.id)}">${partner.name}’s numbers</a> · <a href="${basePath}/partners">All partners</a></p>
<p>Status: <strong data-field="partner-status">${partner.status}</strong> ${
      partner.status === 'active'
        ? form(act('disable'), csrf.token, html``, 'Disable partner')
        : partner.status === 'disabled'
          ? form(act('enable'), csrf.token, html``, 'Enable partner')
          : html`<a href="${basePath}/applications">an application: decide it on the Applications page</a>`
    }</p>
<h2 id="details-h">Details</h2>
<form method="post" action="${act('update')}" aria-labelledby="details-h"><input type="hidden" name="csrf" value="${csrf.token}">
<p><label for="edit-name">Name</label><br><input id="edit-name" name="name" required value="${partner.name}"></p>
<p><label for="edit-email">Email</label><br><input id="edit-email" name="email" type="email" value="${partner.email ?? ''}"></p>
<p><button type="submit">Save details</button></p></form>
<h2 id="codes-h">Referral codes</h2>
${codeList(partner, csrf.token, act)}
${form(act('add-code'), csrf.token, html`<label for="add-code">New code</label> <input id="add-code" name="code" required autocomplete="off"> ${programField('add-code-program')}`, 'Add code')}
<h2 id="promos-h">Stripe promotion codes</h2>
${partner.promotionCodes.length === 0 ? html`<p>None.</p>` : html`<ul>${partner.promotionCodes.map((promo) => html`<li><code>${promo}</code> ${form(act('remove-promo'), csrf.token, html`<input type="hidden" name="promotion_code" value="${promo}">`, 'Remove', `Remove promotion code ${promo}`)}</li>`)}</ul>`}
${form(act('add-promo'), csrf.token, html`<label for="add-promo">Promotion code id (promo_…)</label> <input id="add-promo" name="promotion_code" required autocomplete="off"> ${programField('add-promo-program')}`, 'Add promotion code')}
<h2 id="reward-h">Reward and group</h2>
${rewardsOf(partner, groups)}
${form(act('reward'), csrf.token, html`<label for="reward-rate">Sale reward</label> <input id="reward-rate" name="rate" placeholder="20% or 500" aria-describedby="reward-hint" autocomplete="off"> <label for="reward-duration">for</label> <select id="reward-duration" name="duration"><option value="lifetime">the customer’s lifetime</option><option value="once">the first sale only</option><option value="12m">12 months</option><option value="6m">6 months</option><option value="3m">3 months</option></select> ${programField('reward-program')}`, 'Save reward')}
<p id="reward-hint" class="muted">A percent (20%) or a flat amount in minor units (500 = 5.00). Empty: the group’s or the program’s reward.</p>
${form(act('group'), csrf.token, html`<label for="group">Group</label> <select id="group" name="group"><option value="">No group</option>${groups.map((g) => html`<option value="${g.id}">${g.name}${programs.length > 1 ? ` (${g.programId})` : ''}</option>`)}</select> ${programField('group-program')}`, 'Save group')}
<h2 id="portal-h">Portal link</h2>
${portalSection(partner, csrf.token, act('portal-link'), portalLink)}`;
    const response = kit.page(200, `Manage partner: ${partner.name}`, content, csrf.setCookie);
    return portalLink ? withCopyScript(response) : response;
  }

  function codeList(partner: PartnerWithCodes, csrf: string, act: (action: Action) => string): Html {
    if (partner.codes.length === 0) return html`<p>None: the partner has no link to share.</p>`;
    return html`<ul>${partner.codes.map((code) => html`<li><code>${code}</code> · <span class="muted">${attribution.partners.shareUrl(code)}</span> ${form(act('remove-code'), csrf, html`<input type="hidden" name="code" value="${code}">`, 'Remove', `Remove code ${code}`)}</li>`)}</ul>`;
  }

  function rewardsOf(partner: PartnerWithCodes, groups: PartnerGroup[]): Html {
    const places = Object.entries(partner.programs);
    if (places.length === 0) return html`<p>The program’s reward; no group.</p>`;
    return html`<ul>${places.map(([programId, place]) => {
      const group = groups.find((g) => g.id === place.groupId);
      return html`<li data-program="${programId}">${programs.length > 1 ? html`${programId}: ` : ''}reward <span data-field="reward">${place.reward ? describe(place.reward) : 'the group’s or program’s'}</span>; group <span data-field="group">${group?.name ?? 'none'}</span></li>`;
    })}</ul>`;
  }

  function portalSection(partner: PartnerWithCodes, csrf: string, action: string, link: string | undefined): Html {
    const { secret, url } = attribution.options.portal;
    if (!secret || !url) return html`<p>Set <code>portal.secret</code> and <code>portal.url</code> in your configuration to hand out portal links.</p>`;
    const days = Math.round(attribution.options.portal.expiresIn / 86_400);
    const generate = form(action, csrf, html``, link ? 'Generate another link' : 'Generate portal link');
    if (!link) return html`<p>A signed link to ${partner.name}’s own portal (links, numbers, payouts), valid ${days} days.</p>${generate}`;
    return html`<p><label for="portal-link">Portal link for ${partner.name}, valid ${days} days</label><br><input id="portal-link" readonly value="${link}" size="60"> <button type="button" data-copy="portal-link">Copy link</button></p>
<p id="portal-link-status" role="status"></p>${generate}`;
  }

  async function act(request: DashboardRequest, url: URL, partnerId: string, action: Action, user: string): Promise<DashboardResponse> {
    const fields = formFields(request.body);
    if (!kit.csrfValid(request, fields.get('csrf'), user)) return refused(kit);
    const program = fields.get('program') ? { programId: fields.get('program')! } : {};
    const field = (name: string) => fields.get(name) ?? '';
    return refusing(kit, async () => {
      if (!(await attribution.partners.get(partnerId))) return kit.text(404, 'No such partner.');
      const partners = attribution.partners;
      switch (action) {
        case 'update':
          await partners.update(partnerId, { name: field('name'), email: field('email') });
          break;
        case 'disable':
        case 'enable':
          await partners[action](partnerId);
          break;
        case 'add-code':
          await partners.addCode(partnerId, field('code'), program);
          break;
        case 'remove-code':
          await partners.removeCode(partnerId, field('code'));
          break;
        case 'add-promo':
          await partners.addPromotionCode(partnerId, field('promotion_code'), program);
          break;
        case 'remove-promo':
          await partners.removePromotionCode(partnerId, field('promotion_code'));
          break;
        case 'reward':
          await partners.setReward(partnerId, rewardFromText(field('rate'), field('duration')), program);
          break;
        case 'group':
          if (field('group')) await partners.groups.assign(partnerId, field('group'));
          else await partners.groups.unassign(partnerId, program);
          break;
        case 'portal-link':
          // Shown once, on this page: a signed link never goes into a URL, a redirect or a log.
          return manage(request, url, partnerId, user, await partners.portalUrl(partnerId));
      }
      return redirect(kit, `${manageUrl(partnerId)}?done=${action}`);
    });
  }

  /** The response for a path of these pages; undefined for any other path. */
  return async function route(request: DashboardRequest, url: URL, path: string, method: string, user: string): Promise<DashboardResponse | undefined> {
    if (path === '/partners') {
      if (method === 'GET') return list(request, url, user);
      if (method === 'POST') return create(request, user);
      return kit.text(405, 'Use GET, or the form (POST).', { allow: 'GET, POST' });
    }
    const match = /^\/partners\/([^/]+)\/([a-z-]+)$/.exec(path);
    if (!match) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(match[1]!);
    } catch {
      return kit.text(400, 'Malformed path: an id that is not valid percent-encoding.');
    }
    if (match[2] === 'manage') return method === 'GET' ? manage(request, url, id, user) : kit.text(405, 'Use GET.', { allow: 'GET' });
    // Other partner paths (revoking portal links) are the dashboard's own routes.
    if (!(ACTIONS as readonly string[]).includes(match[2]!)) return undefined;
    if (method !== 'POST') return kit.text(405, 'Use the form’s button (POST).', { allow: 'POST' });
    return act(request, url, id, match[2] as Action, user);
  };
}

export function refused(kit: PageKit): DashboardResponse {
  return kit.text(403, 'The form expired or came from another site: reload the page and try again.');
}

function describe(reward: SaleReward): string {
  const rate = reward.type === 'percent' ? `${reward.percent}%` : `${reward.amount} (minor units)`;
  const duration = reward.duration ?? 'lifetime';
  return `${rate}, ${duration === 'lifetime' ? 'lifetime' : duration === 'once' ? 'first sale only' : `${duration.months} months`}`;
}
