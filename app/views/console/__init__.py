"""The merchant console: a parent blueprint with one nested blueprint per page group.

Naming: each module here is a page group and defines its own ``bp``, named after the module
(``feeds``), so every endpoint reads ``console.<group>.<view>``: ``console.feeds.index``. A
group whose pages all sit under one path takes it as its ``url_prefix`` (``/feeds``); one that
spans paths (auth, overview, placement) writes each path in full. View names are short and
repeat across groups: ``index`` (the group's page or list), ``detail`` (one item), ``new`` and
``create`` (the form and its POST), ``update`` (a POST to an item or the settings), verbs for
other actions (``start``, ``act``, ``logout``), and nouns for fragments (``rows``, ``status``,
``preview``). ``url_for`` always takes the full name, so a search for it finds every caller.

What applies to every page is not tied to a group: ``auth.login_required`` on each view,
CSRF for the whole app, and the console's response headers for every request whose
blueprints include ``console`` (``views.security``).
"""

from flask import Blueprint

from app.views.console import (
    auth,
    checkouts,
    feeds,
    incentives,
    item_actions,
    offers,
    orders,
    outbox,
    overview,
    placement,
    products,
    settings,
    subscriber_actions,
    subscribers,
    subscription_manager,
)

bp = Blueprint("console", __name__, url_prefix="/console")

for group in (
    auth,
    checkouts,
    feeds,
    incentives,
    item_actions,
    offers,
    orders,
    outbox,
    overview,
    placement,
    products,
    settings,
    subscriber_actions,
    subscribers,
    subscription_manager,
):
    bp.register_blueprint(group.bp)
