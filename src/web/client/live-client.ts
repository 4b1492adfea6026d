/**
 * The status page's live part, run by the browser (served as /assets/live.js, no other file, no CDN). It listens
 * to the server's event stream and, when something happened, fetches the page's body again (rendered and escaped
 * on the server) and swaps it in. While something moves it also refreshes every few seconds, so the "now" line
 * and the soak countdowns advance between events. Reading only: it never sends anything but GETs.
 */
export {};

/** Coalesce a burst of events into one refresh. */
const DEBOUNCE_MS = 150;
/** Refresh while a ring is moving, even without events (the now line, countdowns). */
const ACTIVE_REFRESH_MS = 5000;
/** Without a stream (too many viewers, an old proxy): refresh this often. */
const FALLBACK_REFRESH_MS = 10_000;

const main = document.getElementById('live');
const indicator = document.getElementById('live-indicator');
const liveUrl = main?.dataset.liveUrl;
if (main && liveUrl) start(liveUrl);

function start(liveUrl: string): void {
  let refreshing = false;
  let again = false;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let streaming = false;

  const show = (state: 'live' | 'reconnecting' | 'polling', text: string) => {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.dataset.state = state;
    indicator.textContent = text;
  };
  const body = () => document.getElementById('live-body');

  async function refresh(): Promise<void> {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(liveUrl, { headers: { Accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 401) {
        location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      if (!response.ok) return;
      const template = document.createElement('template');
      template.innerHTML = await response.text();
      const next = template.content.getElementById('live-body');
      const current = body();
      if (!next || !current) return;
      // Keep the timeline where the reader scrolled it (a phone scrolls it sideways).
      const scrolled = current.querySelector('.timeline-scroll')?.scrollLeft ?? 0;
      current.replaceWith(next);
      const scroller = next.querySelector('.timeline-scroll');
      if (scroller) scroller.scrollLeft = scrolled;
      document.dispatchEvent(new CustomEvent('elrond:updated', { detail: { lastEventId: next.dataset.lastEventId } }));
    } catch {
      // The server is away for a moment: the stream reconnects and the next event refreshes again.
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  const soon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void refresh(), DEBOUNCE_MS);
  };

  setInterval(() => {
    if (document.hidden) return;
    if (!streaming || body()?.dataset.active === 'true') void refresh();
  }, ACTIVE_REFRESH_MS);

  if (typeof EventSource !== 'function') {
    show('polling', `refreshing every ${FALLBACK_REFRESH_MS / 1000} s`);
    setInterval(() => void refresh(), FALLBACK_REFRESH_MS);
    return;
  }
  const since = body()?.dataset.lastEventId ?? '';
  // After a reconnect the browser sends Last-Event-ID itself; `since` covers the first connection.
  const source = new EventSource(`/api/stream?since=${encodeURIComponent(since)}`);
  source.addEventListener('open', () => {
    streaming = true;
    show('live', 'live');
  });
  source.addEventListener('change', soon);
  source.addEventListener('error', () => {
    streaming = false;
    if (source.readyState === EventSource.CLOSED) show('polling', `live updates unavailable; refreshing every ${ACTIVE_REFRESH_MS / 1000} s`);
    else show('reconnecting', 'reconnecting…');
  });
}
