/* The offers widget: every <og-offer> of the page, fetched in ONE request and handed to our htmx
   (the core's `guard`, then `htmx.process`), offers added or changed later, and window.og.offers
   (contracts §2.2). app/assets.py runs this file as widget('offers', function () { ... }). */
var ID = 'og' + Math.random().toString(36).slice(2, 7);
var STORE = 'OG_STATE';
var MAX = 50;
var seen = new WeakMap(), callbacks = [], callbacksOn = true, counter = 0, queued = false;

/* OG_STATE (contracts §2.3): what headless carts read; synced from the server on each load. */
var state = { sessionId: sid, optedin: [], productOffer: {} };
try {
  var kept = JSON.parse(w.localStorage.getItem(STORE));
  if (kept && kept.sessionId === sid && kept.optedin) state = kept;
} catch (e) { /* no storage: state lives in memory */ }
function save() { try { w.localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) {} }
function setOptins(list) {
  state.optedin = []; state.productOffer = {};
  list.forEach(function (o) {
    state.optedin.push({ id: o.id, frequency: o.frequency });
    state.productOffer[o.id] = [o.offer];
  });
  save();
}
function remember(product, optedIn, frequency, offer) {
  state.optedin = state.optedin.filter(function (o) { return o.id !== product; });
  delete state.productOffer[product];
  if (optedIn) {
    state.optedin.push({ id: product, frequency: frequency });
    state.productOffer[product] = [offer];
  }
  save();
}

/* Reflect the fragment's state on <og-offer> (`subscribed`, `frequency`); tell the page. */
function reflect(el, announce) {
  var root = el.querySelector('.og-offer');
  if (!root || root.hasAttribute('data-og-upsell')) return;
  var product = root.getAttribute('data-og-product'), offer = root.getAttribute('data-og-offer');
  var optedIn = root.getAttribute('data-og-subscribed') === '1';
  var frequency = root.getAttribute('data-og-frequency');
  var was = el.hasAttribute('subscribed'), wasFrequency = attr(el, 'frequency');
  if (optedIn) el.setAttribute('subscribed', ''); else el.removeAttribute('subscribed');
  el.setAttribute('frequency', frequency);
  if (!announce || (was === optedIn && (!optedIn || wasFrequency === frequency))) return;
  remember(product, optedIn, frequency, offer);
  var detail = { productId: product, components: [], optedIn: optedIn, frequency: frequency,
    offer: offer };
  if (callbacksOn) callbacks.forEach(function (fn) { try { fn(detail); } catch (e) { setTimeout(function () { throw e; }); } });
  el.dispatchEvent(new CustomEvent('og-optin-changed', { bubbles: true, detail: detail }));
}

/* The fieldset is disabled while a choice is saved (no racing choices), which drops the
   keyboard focus: put it back on the same control once the new fragment is in. */
function keepFocus(el) {
  var focused = null;
  el.addEventListener('htmx:beforeRequest', function () {
    var a = d.activeElement;
    focused = a && el.contains(a) ? a.id : null;
  });
  el.addEventListener('htmx:afterSettle', function () {
    reflect(el, true);
    var again = focused && d.getElementById(focused);
    if (again) again.focus();
    focused = null;
  });
}

/* Instant upsell: the store's og_auth cookie (raw or URL-encoded: the server takes both) goes
   with the offers request and an upsell's click, so a signed-in subscriber is recognised. An
   upsell's refusal (403 signed out, 409 order being placed ...) is shown in its place too. */
function auth() {
  var m = d.cookie.match(/(?:^|; )og_auth=([^;]*)/);
  return m ? m[1] : '';
}
function upsell(el) {
  el.addEventListener('htmx:configRequest', function (e) {
    if (e.detail.elt.closest('[data-og-upsell]') && auth()) e.detail.headers['X-OG-Auth'] = auth();
  });
  el.addEventListener('htmx:beforeSwap', function (e) {
    if (e.detail.xhr.status < 500 && e.detail.elt.closest('[data-og-upsell]')) {
      e.detail.shouldSwap = true; e.detail.isError = false;
    }
  });
}

function signature(el) {
  return [attr(el, 'product'), attr(el, 'location'), attr(el, 'default-frequency'),
    attr(el, 'type')].join('|');
}

/* Every <og-offer> that is new or whose attributes changed, fetched in one request. */
function scan(all) {
  queued = false;
  var batch = [];
  d.querySelectorAll('og-offer').forEach(function (el) {
    var s = seen.get(el), sig = signature(el);
    if (!attr(el, 'product') || (s && s.sig === sig && !all)) return;
    if (!s) { s = { key: ID + (++counter) }; seen.set(el, s); guard(el); upsell(el); keepFocus(el); }
    s.sig = sig;
    batch.push(el);
  });
  if (!batch.length) return Promise.resolve();
  var requests = [];
  for (var i = 0; i < batch.length; i += MAX) requests.push(load(batch.slice(i, i + MAX)));
  return Promise.all(requests);
}

/* One request for up to MAX offers (the server's limit; a page rarely has more). */
function load(batch) {
  var q = ['session=' + enc(sid)];
  batch.forEach(function (el) {
    q.push('k=' + seen.get(el).key, 'p=' + enc(attr(el, 'product')),
      'l=' + enc(attr(el, 'location') || 'pdp'), 'd=' + enc(attr(el, 'default-frequency')),
      't=' + enc(attr(el, 'type')));
  });
  var a = auth();
  return fetch(BASE + 'offers/?' + q.join('&'), { credentials: 'omit',
    headers: a ? { 'X-OG-Auth': a } : {} }).then(function (r) {
    if (!r.ok) throw new Error('Perennial offers: HTTP ' + r.status);
    return r.text();
  }).then(function (html) {
    var t = d.createElement('template');
    t.innerHTML = html;
    var st = t.content.querySelector('[data-og-optins]');
    if (st) setOptins(JSON.parse(st.getAttribute('data-og-optins')));
    batch.forEach(function (el) {
      var s = seen.get(el);
      if (s.sig !== signature(el)) return; /* changed meanwhile: a newer request is on its way */
      var slot = t.content.querySelector('[data-og-slot="' + s.key + '"]');
      var nodes = slot ? [].slice.call(slot.childNodes) : [];
      el.replaceChildren.apply(el, nodes);
      if (!el.firstElementChild) { el.removeAttribute('subscribed'); el.removeAttribute('frequency'); }
      htmx.process(el);
      reflect(el, false);
    });
  }).catch(function (e) { if (w.console) w.console.warn(e); });
}
function later() { if (!queued) { queued = true; setTimeout(scan, 0); } }

function watch() {
  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var r = records[i];
      if (r.type === 'attributes' ? r.target.localName === 'og-offer' : [].some.call(
        r.addedNodes, function (n) {
          return n.nodeType === 1 && (n.localName === 'og-offer' || !!n.querySelector('og-offer'));
        })) { later(); return; }
    }
  }).observe(d.documentElement, { childList: true, subtree: true, attributes: true,
    attributeFilter: ['product', 'location', 'default-frequency', 'type'] });
}

/* window.og.offers: callable like Ordergroove's initializer, with its helper methods. */
function offers() { return offers; }
offers.perennial = true;
offers.config = offers.setLocale = function () { return offers; };
offers.getOptins = function (productIds) {
  return state.optedin.filter(function (o) {
    return !productIds || productIds.indexOf(o.id) >= 0;
  }).map(function (o) {
    var f = o.frequency.split('_');
    return { product: o.id, subscription_info: { components: [] }, tracking_override: {
      offer: (state.productOffer[o.id] || [])[0], every: +f[0], every_period: +f[1],
      session_id: sid } };
  });
};
offers.clear = function () {
  state.optedin = []; state.productOffer = {};
  save();
  return fetch(BASE + 'optins/clear', { method: 'POST', credentials: 'omit',
    body: new URLSearchParams({ session: sid }) }).then(function () { return scan(true); });
};
offers.addOptinChangedCallback = function (fn) { if (typeof fn === 'function') callbacks.push(fn); };
offers.disableOptinChangedCallbacks = function () { callbacksOn = false; };
offers.refresh = function () { return scan(true); };
offers.sessionId = function () { return sid; };
og.offers = offers;
css('offers', OG_CSS_OFFERS);
if (d.readyState === 'loading') {
  d.addEventListener('DOMContentLoaded', function () { scan(); watch(); });
} else { scan(); watch(); }
