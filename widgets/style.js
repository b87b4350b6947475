/* Our default look. Every selector is wrapped in :where(), so it has zero specificity: the
   host's typography and the merchant's theme (--og-* custom properties) win. The few
   structural rules a hostile host stylesheet could break carry !important instead. */
var OG_CSS = [
  ':where(og-offer){display:flow-root}',
  ':where(.og-offer){display:block!important;box-sizing:border-box!important;max-width:100%!important;',
  'margin:0;padding:.75em 1em;border:1px solid var(--og-border-color,rgba(0,0,0,.18));',
  'border-radius:var(--og-radius,.5em);background:var(--og-background-color,transparent);',
  'font-family:var(--og-global-font-family,inherit);font-size:var(--og-global-font-size,inherit);',
  'color:var(--og-global-font-color,inherit);line-height:1.4}',
  ':where(.og-offer *,.og-offer *::before,.og-offer *::after){box-sizing:border-box!important;float:none!important}',
  ':where(.og-offer fieldset){border:0;margin:0;padding:0;min-width:0}',
  ':where(.og-choice){display:flex!important;align-items:center!important;gap:.6em;width:auto!important;',
  'margin:.2em 0;padding:0;cursor:pointer;font-weight:inherit}',
  ':where(.og-offer input[type=radio],.og-offer input[type=checkbox]){display:inline-block!important;',
  'width:1.05em!important;height:1.05em!important;min-width:0!important;max-width:none!important;',
  'margin:0!important;padding:0!important;flex:none!important;position:static!important;',
  'opacity:1!important;appearance:auto!important;accent-color:var(--og-accent-color,currentColor)}',
  ':where(.og-label){flex:1 1 auto;min-width:0}',
  ':where(.og-price){flex:none;font-weight:600}',
  ':where(.og-freq){display:flex!important;flex-wrap:wrap;align-items:center;gap:.5em;margin:.35em 0 0 1.65em;padding:0!important}',
  ':where(.og-offer select){display:inline-block!important;width:auto!important;max-width:100%!important;',
  'font:inherit;color:inherit;padding:.2em .4em}',
  ':where(.og-offer--select .og-choice){flex-wrap:wrap}',
  ':where(.og-promises){margin:.35em 0 0 1.65em;padding:0;list-style:none;font-size:.92em;',
  'color:var(--og-accent-color,inherit)}',
  ':where(.og-tip){margin:.35em 0 0 1.65em;font-size:.9em}',
  ':where(.og-tip summary){cursor:pointer;text-decoration:underline dotted;width:auto!important}',
  ':where(.og-tip p){margin:.3em 0 0}',
  ':where(.og-offer.htmx-request){opacity:.75}',
  ':where(.og-sr){position:absolute!important;width:1px!important;height:1px!important;',
  'overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;margin:0!important;padding:0!important}'
].join('');
