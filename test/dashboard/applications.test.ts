import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAttribution } from '../../src/core/attribution.js';
import type { Application } from '../../src/core/storage/types.js';
import { createDashboard, type DashboardHandler, type DashboardRequest, type DashboardResponse } from '../../src/dashboard/index.js';
import { backends } from '../support/backends.js';
import { stripeAttribution } from '../support/cli.js';
import { T0 } from '../support/stripe-fixtures.js';
import { world, type World } from '../support/world.js';

const BASE = '/attribution';
const ORIGIN = 'https://shop.example';
type Native = { admin?: boolean };

const cookieOf = (response: DashboardResponse) => response.headers['set-cookie']!.split(';')[0]!;
const tokenOf = (page: DashboardResponse) => /name="token" value="([^"]+)"/.exec(page.body)![1]!;
const csrfOf = (page: DashboardResponse, id: string, action: string) =>
  new RegExp(`action="${BASE}/applications/${id}/${action}"><input type="hidden" name="csrf" value="([^"]+)"`).exec(page.body)![1]!;

describe.each(backends())('partner applications over HTTP ($name)', (backend) => {
  let w: World;
  let now: Date;
  let dashboard: DashboardHandler<Native>;
  let hooks: Array<[string, Application]>;
  let ipCounter = 0;

  beforeAll(async () => {
    now = new Date(T0 * 1000);
    w = await world(backend, undefined, { livemode: false, clock: () => now });
    dashboard = createDashboard<Native>(w.attribution, { authorize: (n) => n.admin === true, secret: 'applications-suite-secret', applications: { rateLimit: { max: 3, windowSeconds: 3600 } } });
    hooks = [];
    for (const name of ['partner.applied', 'partner.approved', 'partner.rejected'] as const) w.attribution.on(name, ({ application }) => void hooks.push([name, application]));
  });
  beforeEach(async () => {
    await w.attribution.outbox.drain(); // what earlier steps raised is not this step's
    hooks.length = 0;
  });

  /** A fresh visitor: their own address, the form served, and a person's few seconds to fill it in. */
  async function visitor(ip = `203.0.113.${++ipCounter}`) {
    const form = (await dashboard({ method: 'GET', url: `${ORIGIN}${BASE}/apply`, headers: {}, remoteAddress: ip }, {}))!;
    expect(form.status).toBe(200);
    const state = { cookie: cookieOf(form), token: tokenOf(form) };
    now = new Date(now.getTime() + 5000);
    const send = async (fields: Record<string, string>, override: Partial<{ cookie: string; token: string }> = {}) => {
      const request: DashboardRequest = {
        method: 'POST',
        url: `${ORIGIN}${BASE}/apply`,
        headers: { cookie: override.cookie ?? state.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: override.token ?? state.token, ...fields }).toString(),
        remoteAddress: ip,
      };
      return (await dashboard(request, {}))!;
    };
    return { ...state, send };
  }
  const fields = (code: string, email = `${code}@creators.example`) => ({ name: `Creator ${code}`, email, promotion: `A newsletter for ${code}'s 2,000 readers`, code });
  const admin = async (path: string) => (await dashboard({ method: 'GET', url: `${ORIGIN}${BASE}${path}`, headers: {} }, { admin: true }))!;
  async function decide(id: string, action: 'approve' | 'reject') {
    const page = await admin('/applications');
    const body = `csrf=${encodeURIComponent(csrfOf(page, id, action))}`;
    return (await dashboard({ method: 'POST', url: `${ORIGIN}${BASE}/applications/${id}/${action}`, headers: { cookie: cookieOf(page) }, body }, { admin: true }))!;
  }
  const clickOf = async (code: string) => (await w.attribution.captureClick({ method: 'GET', url: `${ORIGIN}/?via=${code}`, headers: { 'user-agent': 'Mozilla/5.0 (X11) Firefox/130.0' } })).clickId;
  const applicationOf = async (code: string) => (await w.attribution.applications.list()).find((a) => a.details.code === code);

  it('stores an application as a pending partner whose code attributes nothing until the merchant approves it', async () => {
    const sent = await (await visitor()).send(fields('carol'));
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe(`${BASE}/apply?sent=1`);
    const thanks = (await dashboard({ method: 'GET', url: `${ORIGIN}${sent.headers.location}`, headers: {} }, {}))!;
    expect(thanks.body).toContain('we received your application');

    const application = (await applicationOf('carol'))!;
    expect(application).toMatchObject({ status: 'pending', partner: { status: 'pending', name: 'Creator carol', email: 'carol@creators.example' }, details: { code: 'carol', programId: 'default' } });
    await w.attribution.outbox.drain();
    expect(hooks).toEqual([['partner.applied', expect.objectContaining({ partner: expect.objectContaining({ id: application.partner.id }) })]]);
    // Reserved, not live: no click, not among the partners, and the dashboard lists it as pending.
    expect(await clickOf('carol')).toBeNull();
    expect((await w.attribution.partners.list()).map((p) => p.id)).not.toContain(application.partner.id);
    expect((await admin('/applications')).body).toContain(`data-application="${application.partner.id}"`);
    expect((await dashboard({ method: 'GET', url: `${ORIGIN}${BASE}/applications`, headers: {} }, {}))!.status).toBe(403);

    await w.attribution.outbox.drain(); // what earlier steps raised is not this step's

    hooks.length = 0;
    const approved = await decide(application.partner.id, 'approve');
    expect(approved.status).toBe(303);
    expect(approved.headers.location).toContain(`${BASE}/applications?done=approve`);
    expect((await w.attribution.partners.get(application.partner.id))!.status).toBe('active');
    await w.attribution.outbox.drain();
    expect(hooks.map(([name]) => name)).toEqual(['partner.approved']);
    expect(await clickOf('carol')).not.toBeNull();

    // Approving again is a no-op that says so, and raises nothing.
    expect(await w.attribution.applications.approve(application.partner.id)).toMatchObject({ changed: false, application: { status: 'approved' } });
    await w.attribution.outbox.drain();
    expect(hooks).toHaveLength(1);
    // An approved application cannot be rejected: disabling the partner is the way.
    await expect(w.attribution.applications.reject(application.partner.id)).rejects.toThrow(/approved already: disable the partner instead/);
  });

  it('concurrent approvals of one application approve it once', async () => {
    expect((await (await visitor()).send(fields('racer'))).status).toBe(303);
    const { partner } = (await applicationOf('racer'))!;
    await w.attribution.outbox.drain(); // what earlier steps raised is not this step's
    hooks.length = 0;
    const results = await Promise.all([1, 2, 3, 4].map(() => w.attribution.applications.approve(partner.id)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    await w.attribution.outbox.drain();
    expect(hooks.filter(([name]) => name === 'partner.approved')).toHaveLength(1);
  });

  it('two applications racing for one code or one email: one is stored, the other refused', async () => {
    const race = (input: { code: string; email: string }[]) =>
      Promise.allSettled(input.map(({ code, email }) => w.attribution.applications.submit({ name: 'Racer', email, promotion: 'Podcast', code })));
    const sameCode = await race([{ code: 'kim', email: 'kim1@creators.example' }, { code: 'kim', email: 'kim2@creators.example' }]);
    expect(sameCode.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((sameCode.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toContain('The referral code "kim" is taken');
    const sameEmail = await race([{ code: 'lee1', email: 'lee@creators.example' }, { code: 'lee2', email: 'lee@creators.example' }]);
    expect(sameEmail.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await w.attribution.applications.list()).filter((a) => a.partner.email === 'lee@creators.example')).toHaveLength(1);
  });

  it('rejects: the applicant stays out, their code is released and their email may apply again', async () => {
    expect((await (await visitor()).send(fields('dave'))).status).toBe(303);
    const { partner } = (await applicationOf('dave'))!;
    await w.attribution.outbox.drain(); // what earlier steps raised is not this step's
    hooks.length = 0;
    expect((await decide(partner.id, 'reject')).status).toBe(303);
    expect((await w.attribution.applications.get(partner.id))!.status).toBe('rejected');
    await w.attribution.outbox.drain();
    expect(hooks.map(([name]) => name)).toEqual(['partner.rejected']);
    expect(await clickOf('dave')).toBeNull();
    expect(await w.attribution.applications.reject(partner.id)).toMatchObject({ changed: false });
    await expect(w.attribution.applications.approve(partner.id)).rejects.toThrow(/rejected already/);
    // The code and the email are free again.
    expect((await (await visitor()).send(fields('dave', 'dave@creators.example'))).status).toBe(303);
    expect((await w.attribution.applications.list({ status: 'pending' })).filter((a) => a.details.code === 'dave')).toHaveLength(1);
  });

  it('refuses a code another partner or applicant has, with a message, and writes nothing', async () => {
    const before = await w.count('sa_partners');
    const taken = await (await visitor()).send(fields('alice', 'someone@creators.example'));
    expect(taken.status).toBe(409);
    expect(taken.body).toContain('The referral code &#34;alice&#34; is taken: choose another');
    // The form comes back with the applicant's answers, to pick another code.
    expect(taken.body).toContain('value="someone@creators.example"');
    expect((await (await visitor()).send(fields('erin'))).status).toBe(303);
    expect((await (await visitor()).send(fields('erin', 'other@creators.example'))).status).toBe(409);
    const malformed = await (await visitor()).send(fields('not a code', 'x@creators.example'));
    expect(malformed.status).toBe(400);
    expect(malformed.body).toContain('must be 1–64 letters');
    expect(await w.count('sa_partners')).toBe(before + 1);
  });

  it('refuses a second application from one email, and the email of an existing partner', async () => {
    expect((await (await visitor()).send(fields('frank'))).status).toBe(303);
    const again = await (await visitor()).send(fields('frank2', 'FRANK@creators.example'));
    expect(again.status).toBe(409);
    expect(again.body).toContain('frank@creators.example has applied or is a partner already');
    expect((await (await visitor()).send(fields('alice2', 'alice@partners.example'))).status).toBe(409);
    expect((await w.attribution.applications.list()).filter((a) => a.partner.email === 'frank@creators.example')).toHaveLength(1);
  });

  it('refuses spam: a filled honeypot, a form sent too fast, an expired or forged token, a missing cookie', async () => {
    const before = await w.count('sa_partners');
    const bot = await visitor();
    expect((await bot.send({ ...fields('spam1'), website: 'https://spam.example' })).status).toBe(400);

    const fresh = await visitor();
    now = new Date(now.getTime() - 4000); // sent a second after it was served
    const early = await fresh.send(fields('spam3'));
    expect(early.status).toBe(400);
    expect(early.body).toContain('That was quick');
    // The form comes back with a new token that works once a person's few seconds have passed.
    now = new Date(now.getTime() + 5000);
    const retried = await fresh.send(fields('spam3'), { token: tokenOf(early) });
    expect(retried.status).toBe(303);
    await w.attribution.applications.reject((await applicationOf('spam3'))!.partner.id);

    const late = await visitor();
    now = new Date(now.getTime() + 3 * 3600 * 1000);
    const expired = await late.send(fields('spam4'));
    expect(expired.status).toBe(400);
    expect(expired.body).toContain('The form expired');

    const forger = await visitor();
    const [issued] = forger.token.split('.');
    expect((await forger.send(fields('spam5'), { token: `${Number(issued) - 60_000}.${forger.token.split('.')[1]}` })).status).toBe(403);
    expect((await forger.send(fields('spam5'), { cookie: 'sa_apply_nonce=someone-elses' })).status).toBe(403);
    expect((await forger.send(fields('spam5'), { cookie: '' })).status).toBe(403);
    expect(await w.count('sa_partners')).toBe(before + 1); // spam3, sent again once a person's seconds had passed
  });

  it('rate-limits each address in the database, across instances, refused attempts included', async () => {
    const ip = '192.0.2.44';
    // Two instances on one database: the count is the database's, not a process's.
    const other = createAttribution({ database: w.storage, livemode: false, clicks: { ipSalt: 'pepper' }, clock: () => now, onError: () => {} });
    const second = createDashboard<Native>(other, { authorize: () => false, secret: 'applications-suite-secret', applications: { rateLimit: { max: 3, windowSeconds: 3600 } } });
    const a = await visitor(ip);
    expect((await a.send(fields('gina'))).status).toBe(303);
    expect((await a.send(fields('alice', 'gina2@creators.example'))).status).toBe(409);
    const body = new URLSearchParams({ token: a.token, ...fields('gina3') }).toString();
    const third = (await second({ method: 'POST', url: `${ORIGIN}${BASE}/apply`, headers: { cookie: a.cookie }, body, remoteAddress: ip }, {}))!;
    expect(third.status).toBe(303);
    const refused = await a.send(fields('gina4'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toContain('Too many applications from this address');
    expect(await applicationOf('gina4')).toBeUndefined();
    // Another address is not affected; the next window lets this one in again.
    expect((await (await visitor()).send(fields('hank'))).status).toBe(303);
    now = new Date(now.getTime() + 3600 * 1000);
    expect((await (await visitor(ip)).send(fields('gina4'))).status).toBe(303);
  });

  it('keeps the page closed unless the dashboard opens it', async () => {
    const closed = createDashboard<Native>(w.attribution, { authorize: () => true, secret: 's' });
    expect((await closed({ method: 'GET', url: `${ORIGIN}${BASE}/apply`, headers: {} }, {}))!.status).toBe(404);
  });

  it('CLI: lists, and approves or rejects only with the app’s config (its hooks run)', async () => {
    expect((await (await visitor()).send(fields('ivan'))).status).toBe(303);
    expect((await (await visitor()).send(fields('judy'))).status).toBe(303);
    const ivan = (await applicationOf('ivan'))!.partner.id;
    const judy = (await applicationOf('judy'))!.partner.id;
    const project = mkdtempSync(join(tmpdir(), 'sa-applications-'));
    const key = `__saApplications_${backend.name}`;
    (globalThis as Record<string, unknown>)[key] = w.attribution;
    writeFileSync(join(project, 'stripe-attribution.config.mjs'), `export default () => globalThis[${JSON.stringify(key)}];\n`);

    const listed = await stripeAttribution(['applications', 'list'], {}, project);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(ivan);
    expect(listed.stdout).toContain('judy@creators.example');

    const bare = await stripeAttribution(['applications', 'approve', ivan, '--data-dir', project], {}, mkdtempSync(join(tmpdir(), 'sa-no-config-')));
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('applications approve needs your app’s configuration');

    await w.attribution.outbox.drain(); // what earlier steps raised is not this step's

    hooks.length = 0;
    const approved = await stripeAttribution(['applications', 'approve', ivan], {}, project);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain(`Application ${ivan}: approved`);
    expect((await stripeAttribution(['applications', 'approve', ivan], {}, project)).stdout).toContain('already approved; nothing changed');
    expect((await stripeAttribution(['applications', 'reject', judy], {}, project)).stdout).toContain(`Application ${judy}: rejected`);
    await w.attribution.outbox.drain();
    expect(hooks.map(([name]) => name)).toEqual(['partner.approved', 'partner.rejected']);
    const unknown = await stripeAttribution(['applications', 'approve', 'ptn_nope'], {}, project);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No application ptn_nope');
  });
});
