/* The widget core: the part of every storefront loader that is not about one widget. It runs in
   our IIFE after the scoped htmx (`makeHtmx`, not yet built) and before the widgets.

   One core per page: the first loader to run builds it (our private htmx, the shopper's session,
   the base URL of our routes) and keeps it on window.og, not enumerable; any later loader (the
   same main.js twice, or another Perennial script) reuses it and only adds its own widget, so a
   page never has two htmx of ours or two sessions. Only data is shared: each loader brings its
   own copy of the functions below, so loaders cached at different times still work together.
   The first loader decides the host and merchant; the page's tags must agree on both. */
var w = window, d = document;
var og = w.og = w.og || {};
var core = og.perennial || start();
var htmx = core.htmx, sid = core.sid, BASE = core.base;
/* Every htmx event our elements fire; htmx fires each one in kebab-case too. */
var EVENTS = ('configRequest beforeRequest beforeSend afterRequest beforeOnLoad afterOnLoad ' +
  'beforeSwap afterSwap afterSettle beforeProcessNode afterProcessNode beforeCleanupElement load ' +
  'responseError sendError timeout abort validateUrl confirm trigger oobBeforeSwap oobAfterSwap ' +
  'xhr:loadstart xhr:loadend xhr:progress xhr:abort validation:validate validation:failed ' +
  'validation:halted beforeTransition prompt swapError targetError').split(' ');

function start() {
  var me = d.currentScript || [].filter.call(d.scripts, function (sc) {
    return /\/[0-9a-f]{32}\/(main|msi)\.js(\?|$)/.test(sc.src);
  })[0];
  var src = new URL(me.src, location.href);
  var mid = src.pathname.split('/').slice(-2)[0];
  var h = makeHtmx();
  h.config.historyEnabled = false;
  h.config.allowEval = false;
  h.config.allowScriptTags = false;
  h.config.selfRequestsOnly = false;
  h.config.includeIndicatorStyles = false;
  /* og_session_id (contracts §2.3): first-party, renewed on each visit. */
  var m = d.cookie.match(/(?:^|; )og_session_id=([^;]*)/);
  var s = m && decodeURIComponent(m[1]);
  if (!s || !new RegExp('^' + mid + '\\.\\d{1,20}\\.\\d{1,12}$').test(s)) {
    var rnd = new Uint32Array(2);
    w.crypto.getRandomValues(rnd);
    s = mid + '.' + (rnd[0] * 1e6 + rnd[1] % 1e6) + '.' + Math.floor(Date.now() / 1000);
  }
  d.cookie = 'og_session_id=' + s + '; path=/; max-age=2592000; SameSite=Lax' +
    (location.protocol === 'https:' ? '; Secure' : '');
  var c = { htmx: h, sid: s, base: src.origin + src.pathname.replace(/[^/]*$/, '') };
  Object.defineProperty(og, 'perennial', { value: c });
  return c;
}

/* Set a widget up once per page: `setUp` must put its API, marked `perennial`, on og[name]. */
function widget(name, setUp) {
  if (!(og[name] && og[name].perennial)) setUp();
}

function css(name, text) {
  d.head.insertAdjacentHTML('beforeend', '<style data-og-' + name + '>' + text + '</style>');
}

function enc(s) { return encodeURIComponent(s || ''); }
function attr(el, name) { return el.getAttribute(name) || ''; }

/* Before an element of ours goes to htmx (`htmx.process`): keep its traffic ours (only our
   routes, no HX-* headers so no CORS preflight, the session id added) and stop its htmx events
   at the element, so host listeners never see them. */
function stop(e) { e.stopPropagation(); }
function guard(el) {
  el.addEventListener('htmx:configRequest', function (e) {
    var h = e.detail.headers;
    Object.keys(h).forEach(function (k) { if (k !== 'Content-Type') delete h[k]; });
    e.detail.parameters.og_session = sid;
    if (String(e.detail.path).indexOf(BASE) !== 0) e.preventDefault();
  });
  EVENTS.forEach(function (name) {
    el.addEventListener('htmx:' + name, stop);
    el.addEventListener('htmx:' + name.replace(/[A-Z]/g, '-$&').toLowerCase(), stop);
  });
}
