/* Perennial storefront loader. */
(function () {
'use strict';
