/* Console behaviour: send the CSRF token with every htmx request; show refusals in place. */
(function () {
  'use strict';
  document.addEventListener('htmx:configRequest', function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers['X-CSRFToken'] = meta.content;
  });
  // A 400 or 409 answered with a fragment (a form's errors, "the order moved on") is meant to
  // replace its target; htmx leaves 4xx unswapped by default. Whole error pages are not.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail.xhr;
    if ((xhr.status === 400 || xhr.status === 409) &&
        !/^\s*<!doctype/i.test(xhr.responseText || '')) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
