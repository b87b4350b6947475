/* The subscriber dashboard (Subscription Manager, contracts §4): fills the store's
   <div id="og-msi"> with the dashboard of the subscriber the store signed in, and hands it to
   our htmx (the core's `guard`, then `htmx.process`). app/assets.py runs this file as
   widget('msi', function () { ... }).

   Who is signed in is the store's og_auth cookie (`user_id|ts|sig`, raw or URL-encoded, set on
   the store's own domain): it is read afresh for every request and sent in the X-OG-Auth
   header, never as a cookie of ours. When the merchant set an authentication page, it is first
   loaded in a hidden iframe (inside #og-msi), as Ordergroove's script does, so the store can
   set or renew the cookie. Every action answers the whole dashboard: the focus goes to the first
   field a refusal marks invalid, else back to the control that had it, else to the outcome's
   message; open <details> stay open, but for a form the action completed (data-og-done). */
var AUTH_PAGE = "%%OG_AUTH_PAGE%%"; /* the merchant's auth page URL, or "" (msi.js route) */
var AUTH_WAIT = 5000;
var root = null, focusId = null, openIds = [];

function token() {
  var m = d.cookie.match(/(?:^|; )og_auth=([^;]*)/);
  if (!m) return '';
  var v = m[1].replace(/^"(.*)"$/, '$1');
  try { v = decodeURIComponent(v); } catch (e) { /* not encoded */ }
  return encodeURIComponent(v);
}

function authPage() {
  return new Promise(function (done) {
    var f = d.createElement('iframe'), t;
    function finish() {
      clearTimeout(t);
      if (f.parentNode) f.parentNode.removeChild(f);
      done();
    }
    t = setTimeout(finish, AUTH_WAIT);
    f.hidden = true;
    f.tabIndex = -1;
    f.title = 'Sign-in check';
    f.setAttribute('aria-hidden', 'true');
    f.addEventListener('load', finish);
    f.addEventListener('error', finish);
    f.src = AUTH_PAGE;
    root.appendChild(f);
  });
}

function put(html) {
  var t = d.createElement('template');
  t.innerHTML = html;
  root.replaceChildren.apply(root, [].slice.call(t.content.childNodes));
  htmx.process(root);
}

function load() {
  return fetch(BASE + 'msi/', { credentials: 'omit', headers: { 'X-OG-Auth': token() } })
    .then(function (r) {
      return r.text().then(function (html) {
        if (!/^\s*<div class="og-msi[ "]/.test(html)) throw new Error('Perennial dashboard: HTTP ' + r.status);
        put(html);
      });
    }).catch(function (e) {
      put('<div class="og-msi"><p class="og-msi-notice og-msi-notice--error" role="alert">' +
        'Your subscriptions could not be loaded. Please try again later.</p></div>');
      if (w.console) w.console.warn(e);
    });
}

function remember() {
  var a = d.activeElement;
  focusId = a && a.id && root.contains(a) ? a.id : null;
  openIds = [].map.call(root.querySelectorAll('details[open]'), function (x) { return x.id; });
}

function mine(id) {
  var el = id && d.getElementById(id);
  return el && root.contains(el) ? el : null;
}

function restore() {
  openIds.forEach(function (id) { var x = mine(id); if (x && !x.hasAttribute('data-og-done')) x.open = true; });
  /* htmx already put the focus back on the control of the same id at the swap; settling comes
     later: a subscriber who has moved on since keeps the focus where they took it */
  var at = d.activeElement;
  if (at && at !== d.body && root.contains(at) && at.id !== focusId) { focusId = null; return; }
  var again = root.querySelector('[aria-invalid="true"]') || mine(focusId);
  var notice = mine('og-msi-notice');
  /* focus() does nothing to a hidden control (in a closed <details>, say): then the message */
  if (again && !again.disabled) again.focus();
  if ((!again || d.activeElement !== again) && notice) notice.focus();
  focusId = null;
}

function start() {
  root = d.getElementById('og-msi');
  if (!root) return;
  guard(root);
  root.addEventListener('htmx:configRequest', function (e) { e.detail.headers['X-OG-Auth'] = token(); });
  root.addEventListener('htmx:beforeRequest', remember);
  root.addEventListener('htmx:beforeSwap', function (e) {
    var x = e.detail.xhr;
    if (x.status >= 400 && x.status < 500 && /text\/html/.test(x.getResponseHeader('Content-Type') || '')) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  root.addEventListener('htmx:afterSettle', restore);
  (AUTH_PAGE ? authPage() : Promise.resolve()).then(load);
}

og.msi = { perennial: true, refresh: function () { return root ? load() : Promise.resolve(); } };
css('msi', OG_CSS_MSI);
if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
else start();
