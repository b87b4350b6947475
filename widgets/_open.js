/* Perennial storefront loader: subscribe-and-save offers for <og-offer> elements. */
(function () {
'use strict';
if (window.og && window.og.offers && window.og.offers.perennial) return; /* loaded twice */
