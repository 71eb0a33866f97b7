import { html, type Html } from './html.js';

/** What the dashboard shows: live or test data, every program or one. */
export interface DashboardView {
  livemode: boolean;
  /** One program's data only; every program's when absent. */
  programId?: string;
}

/**
 * The view a URL asks for (`?mode=live|test&program=<id>`), the dashboard's default mode when it
 * names none; a string saying what is wrong when it names a mode or program that does not exist.
 */
export function viewOf(url: URL, defaultLivemode: boolean, programs: readonly string[]): DashboardView | string {
  const mode = url.searchParams.get('mode');
  if (mode !== null && mode !== 'live' && mode !== 'test') return `Unknown mode "${mode}": use mode=live or mode=test.`;
  const program = url.searchParams.get('program') || undefined;
  if (program !== undefined && !programs.includes(program)) return `Unknown program "${program}": the configured programs are ${programs.join(', ')}.`;
  return { livemode: mode === null ? defaultLivemode : mode === 'live', ...(program ? { programId: program } : {}) };
}

/** `path` with the view's query (only what differs from the default), so links and forms keep it. */
export function withView(path: string, view: DashboardView, defaultLivemode: boolean, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  if (view.livemode !== defaultLivemode) query.set('mode', view.livemode ? 'live' : 'test');
  if (view.programId) query.set('program', view.programId);
  for (const [name, value] of Object.entries(extra)) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The visible label of what is shown, and a form (no script) switching mode and program. */
export function viewSwitch(action: string, view: DashboardView, programs: readonly string[]): Html {
  const mode = view.livemode ? 'live' : 'test';
  return html`<form class="view" method="get" action="${action}" aria-label="What the dashboard shows">
<p><span class="mode mode-${mode}" data-field="mode">${view.livemode ? 'Live data' : 'Test data'}</span> · <span data-field="program">${view.programId ? `Program ${view.programId}` : 'All programs'}</span></p>
<label for="view-mode">Mode</label> <select id="view-mode" name="mode"><option value="live"${view.livemode ? html` selected` : ''}>Live</option><option value="test"${view.livemode ? '' : html` selected`}>Test</option></select>
${programs.length > 1 ? html`<label for="view-program">Program</label> <select id="view-program" name="program"><option value="">All programs</option>${programs.map((id) => html`<option value="${id}"${id === view.programId ? html` selected` : ''}>${id}</option>`)}</select>` : ''}
<button type="submit">Show</button>
</form>`;
}
