/* Console behaviour: send the CSRF token with every htmx request. */
(function () {
  'use strict';
  document.addEventListener('htmx:configRequest', function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers['X-CSRFToken'] = meta.content;
  });
})();
