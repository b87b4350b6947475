"""What each route reads: path variables, query and form names, each with a kind of value.

``routes`` and ``sweep`` turn a kind into plausible values (real ids of merchants A and B,
valid dates and frequencies) and hostile ones. A route missing here is still attacked, with
every id there is in its path and unknown names in its query and form;
``test_every_route_has_a_spec`` asks for an entry all the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.factories import PASSWORD

INCENTIVE_FORM = {
    "name": "text",
    "kind": "incentive_kind",
    "scope": "scope",
    "applies_to": "applies_to",
    "percent": "percent",
    "amount": "money",
    "currency": "currency",
    "threshold": "money",
    "gift_product": "product",
    "target": "target",
    "target_group": "text",
    "target_products": "products",
    "min_order": "order_number",
    "max_order": "order_number",
    "starts_at": "date",
    "ends_at": "date",
    "active": "bool",
}
OFFER_FORM = {
    "offer_type": "offer_type",
    "optin_label": "text",
    "optout_label": "text",
    "every_label": "text",
    "tooltip_trigger": "text",
    "tooltip": "text",
    "frequencies": "frequencies",
    "default_frequency": "frequency",
    "show_tooltip": "bool",
    "active": "bool",
    "incentive_ids": "incentive",
}
VERIFY = {
    "merchant_id": "merchant",
    "order_id": "order_id",
    "ts": "ts",
    "sig": "sig",
    "action": "action",
}
PRODUCT_FILTERS = {
    "search": "text",
    "updated_start": "date",
    "updated_end": "date",
    "page_size": "int",
    "page": "int",
    "cursor": "cursor",
    "eligible": "flag",
    "in_stock": "flag",
    "discontinued": "flag",
    "in_latest_feed": "flag",
}

SUBSCRIBER_ACTION_FORM = {
    "quantity": "int",
    "every": "int",
    "every_period": "int",
    "order_date": "day",
    "until": "day",
    "next_order_date": "day",
    "product": "product",
    "cancel_code": "int",
    "cancel_text": "text",
    "address": "text",
    "payment": "text",
    "for_all": "bool",
    "reminder_days": "int",
}
SUBSCRIPTION_MANAGER_FORM = {
    "quantities": "text",
    "pause": "bool",
    "skip": "bool",
    "swap": "bool",
    "save_offer": "save_offer",
    "every": "int",
    "every_period": "int",
    "percent": "int",
    "orders": "int",
    "auth_page_url": "url",
    "upsell_locations": "location",
}
CANCEL_REASONS_FORM = {
    f"reasons-{n}-{name}": kind
    for n in range(3)
    for name, kind in (("code", "int"), ("reason", "text"), ("text", "bool"))
}

PLACEMENT_FORM = {
    "placement_hour": "hour",
    "order_endpoint_url": "url",
    "placement_mode": "placement_mode",
    "order_timeout_seconds": "int",
    "endpoint_dedupes": "bool",
    "reminder_days": "int",
    "cc_retry_days": "int",
    "cc_retries": "int",
    "generic_retries": "int",
    "connection_retry_days": "int",
    "card_type_names": "card_names",
}


@dataclass(frozen=True)
class Spec:
    """The names a route reads, each with the kind of value it expects."""

    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)


# Every endpoint, with the names it reads (test_every_route_has_a_spec keeps this complete).
SPECS = {
    "index": Spec(),
    "healthz": Spec(),
    "storefront.loader": Spec(),
    "storefront.offers_batch": Spec(
        query={
            "session": "session",
            "k": "key",
            "p": "product",
            "l": "location",
            "d": "frequency",
            "t": "offer_type",
        }
    ),
    "storefront.offers_choose": Spec(
        form={
            "og_session": "session",
            "og_key": "key",
            "og_product": "product",
            "og_location": "location",
            "og_default": "frequency",
            "og_type": "offer_type",
            "og_choice": "frequency",
            "og_subscribed": "flag",
            "og_frequency": "frequency",
        }
    ),
    "storefront.offers_upsell": Spec(
        form={
            "og_key": "key",
            "og_product": "product",
            "og_location": "location",
            "og_order": "order",
            "og_kind": "upsell_kind",
            "og_frequency": "frequency",
        }
    ),
    "storefront.optins_list": Spec(query={"session": "session"}),
    "storefront.optins_clear": Spec(form={"session": "session"}),
    "storefront.cart": Spec(),
    "storefront.msi_loader": Spec(),
    "storefront.msi_dashboard": Spec(),
    "storefront.msi_action": Spec(
        form={
            "subscription": "subscription",
            "order": "order",
            "item": "text",
            "quantity": "int",
            "frequency": "frequency",
            "order_date": "day",
            "until": "day",
            "next_order_date": "day",
            "product": "product",
            "reminder_days": "int",
            "shipping_address": "text",
            "payment": "text",
            "all": "bool",
            "reason": "int",
            "reason_text": "text",
            "first_name": "text",
            "last_name": "text",
            "address": "text",
            "address2": "text",
            "city": "text",
            "state_province_code": "text",
            "zip_postal_code": "text",
            "country_code": "text",
            "phone": "text",
        }
    ),
    "console.overview.index": Spec(),
    "console.overview.status": Spec(),
    "console.checkouts.index": Spec(query={"days": "int"}),
    "console.feeds.index": Spec(),
    "console.feeds.rows": Spec(),
    "console.feeds.start": Spec(),
    "console.feeds.detail": Spec(),
    "console.feeds.report": Spec(),
    "console.incentives.index": Spec(),
    "console.incentives.new": Spec(),
    "console.incentives.detail": Spec(),
    "console.incentives.create": Spec(form=INCENTIVE_FORM),
    "console.incentives.update": Spec(form=INCENTIVE_FORM),
    "console.incentives.set_active": Spec(form={"active": "bool"}),
    "console.auth.login": Spec(query={"next": "next"}),
    "console.auth.authenticate": Spec(
        form={"email": "email", "password": "password", "next": "next"}
    ),
    "console.auth.logout": Spec(),
    "console.offers.index": Spec(),
    "console.offers.detail": Spec(),
    "console.offers.update": Spec(form=OFFER_FORM),
    "console.offers.preview": Spec(form={**OFFER_FORM, "preview_product": "product"}),
    "console.products.index": Spec(query={"show": "show", "q": "text", "cursor": "cursor"}),
    "console.products.detail": Spec(),
    "console.products.update": Spec(
        form={
            "eligible_override": "override",
            "allowed_frequencies": "frequencies",
            "default_frequency": "frequency",
            "upsell_eligible": "bool",
        }
    ),
    "console.settings.index": Spec(),
    "console.settings.update": Spec(
        form={
            "name": "text",
            "timezone": "timezone",
            "placement_hour": "int",
            "order_endpoint_url": "url",
            "allowed_origins": "origins",
        }
    ),
    "console.settings.create_api_key": Spec(form={"name": "text"}),
    "console.settings.revoke_api_key": Spec(),
    "console.settings.reveal_hash_key": Spec(),
    "console.settings.update_sftp_keys": Spec(form={"authorized_keys": "ssh_keys"}),
    "console.settings.reset_sftp_password": Spec(),
    "console.subscribers.index": Spec(query={"q": "text", "before": "int"}),
    "console.subscribers.detail": Spec(),
    "console.subscriber_actions.act": Spec(form=SUBSCRIBER_ACTION_FORM),
    "console.item_actions.act": Spec(
        form={"quantity": "int", "every": "int", "every_period": "int"}
    ),
    "console.subscription_manager.index": Spec(),
    "console.subscription_manager.update": Spec(form=SUBSCRIPTION_MANAGER_FORM),
    "console.subscription_manager.update_reasons": Spec(form=CANCEL_REASONS_FORM),
    "console.subscription_manager.reset_reasons": Spec(),
    "console.outbox.index": Spec(query={"before": "int"}),
    "console.outbox.detail": Spec(),
    "console.orders.index": Spec(
        query={
            "q": "text",
            "status": "order_group",
            "from": "day",
            "to": "day",
            "sort": "order_sort",
            "cursor": "cursor",
        }
    ),
    "console.orders.detail": Spec(),
    "console.orders.act": Spec(form={"store_order_id": "text"}),
    "console.placement.runs": Spec(),
    "console.placement.start": Spec(),
    "console.placement.settings": Spec(),
    "console.placement.update_settings": Spec(form=PLACEMENT_FORM),
    "api.product_list": Spec(query=PRODUCT_FILTERS),
    "api.product_detail": Spec(),
    "api.subscription_list": Spec(
        query={
            "customer": "customer",
            "page_size": "int",
            "page": "int",
            "cursor": "int",
            "status": "text",
            "updated_start": "date",
            "updated_end": "date",
        }
    ),
    "api.subscription_detail": Spec(),
    "api.customer_detail": Spec(),
    "api.set_contact_details": Spec(),  # a JSON body: generated in test_set_contact_details
    "api.update_payment_default": Spec(form={"update_request": "text"}),
    # JSON bodies: their cases are in test_api_addresses_payments.
    "api.address_create": Spec(),
    "api.address_update": Spec(),
    "api.payment_create": Spec(),
    "api.payment_update": Spec(),
    "api.customer_list": Spec(
        query={
            "page": "int",
            "page_size": "int",
            "cursor": "cursor",
            "updated_start": "date",
            "updated_end": "date",
        }
    ),
    "api.customer_create": Spec(),  # JSON: cases in test_api_customers
    # Webhook configuration: JSON bodies, cases in test_webhooks.
    "api.webhook_target_create": Spec(),
    "api.webhook_target_list": Spec(),
    "api.webhook_target_update": Spec(),
    "api.webhook_target_filter": Spec(),
    "api.webhook_target_key": Spec(),
    "api.webhook_target_rotate": Spec(),
    "api.event_list": Spec(
        query={
            "type": "text",
            "object_type": "text",
            "object_id": "text",
            "customer": "customer",
            "created_start": "date",
            "created_end": "date",
            "page": "int",
            "page_size": "int",
            "cursor": "cursor",
        }
    ),
    "api.customer_update": Spec(),
    "api.order_detail": Spec(),
    "api.subscription_response": Spec(),
    "api.subscription_create": Spec(form={"create_request": "create_request"}),
    "api.subscription_verify": Spec(query=VERIFY, form=VERIFY),
    "api.order_verify_post": Spec(),  # a JSON body: its own hostile cases in test_placement
    # Subscriber actions read JSON bodies: their cases are in test_api_actions.
    "api.subscription_action": Spec(),
    "api.order_action": Spec(),
    "api.item_action": Spec(),
    "api.item_instant_upsell": Spec(),
    "api.subscription_from_item": Spec(),
    "api.subscription_instant_upsell": Spec(),  # JSON: cases in test_api_instant_upsell
    "api.address_use_for_all": Spec(),
    "api.payment_use_for_all": Spec(),
    "api.cancel_reason_list": Spec(),
}
# Path variables: by "endpoint:name", else by name; anything else gets every id there is.
PATH_KINDS = {
    "merchant_id": "merchant",
    "session_id": "session",
    "run_id": "feed_run",
    "location": "location",
    "product_id": "product",
    "user_id": "customer",
    "key_id": "api_key_id",
    "subs_req_id": "purchase",
    "console.incentives.detail:public_id": "incentive",
    "console.incentives.update:public_id": "incentive",
    "console.incentives.set_active:public_id": "incentive",
    "api.order_detail:public_id": "order",
    "api.subscription_detail:public_id": "subscription",
    "api.subscription_action:public_id": "subscription",
    "api.order_action:public_id": "order",
    "console.orders.detail:public_id": "order",
    "console.orders.act:public_id": "order",
    "console.orders.act:action": "order_action",
    "storefront.msi_action:action": "msi_action",
    "console.subscriber_actions.act:public_id": "subscription",
    "console.subscriber_actions.act:action": "subscriber_action",
    "console.item_actions.act:public_id": "item",
    "console.item_actions.act:action": "item_action",
}
ALL_NAMES = sorted(
    {n for spec in SPECS.values() for n in (*spec.query, *spec.form)}
    | {"page", "id", "format", "callback", "csrf_token", "_method"}
)
SSH_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fuzz@example"
)
# Valid values of each kind, so that a request gets past validation to its hostile part.
FIXED = {
    "location": ("pdp", "cart", "default", "or", "qv"),
    "frequency": ("4_2", "2_3", "2_2"),
    "frequencies": ("2_2 4_2 2_3", "4_2", "1_1,2_2"),
    "key": ("o0", "o-1_x"),
    "offer_type": ("radio", "toggle", "select"),
    "upsell_kind": ("once", "subscribe"),
    "bool": ("on", ""),  # a console checkbox
    "flag": ("true", "false", "1", "0", "yes", "no", "True", "False", ""),  # an API filter
    "password": (PASSWORD,),
    "next": ("/console/settings", "/console/products/"),
    "text": ("Renamed", "Ten percent"),
    "money": ("5.00", "12.5", "0.50"),
    "percent": ("10", "12.5", "100"),
    "currency": ("USD", "EUR", "JPY"),
    "timezone": ("America/New_York", "UTC", "Europe/Paris"),
    "url": ("https://alpha.example/og/orders", "http://localhost:9/x", ""),
    "origins": (
        "https://alpha.example",
        "https://alpha.example https://b.example",
        "http://localhost:3000",
    ),
    "incentive_kind": ("percent_off", "fixed_off", "free_shipping", "flat_rate_shipping", "gift"),
    "scope": ("item", "order"),
    "applies_to": ("initial", "ongoing", "both"),
    "target": ("all", "group", "products"),
    "override": ("", "yes", "no"),
    "order_number": ("1", "2", ""),
    "show": (
        "",
        "eligible",
        "ineligible",
        "in_stock",
        "out_of_stock",
        "discontinued",
        "not_in_feed",
    ),
    "ssh_keys": (SSH_KEY, ""),
    "action": ("decline", "process"),  # declining writes less than processing
    "sig": ("",),  # signed for real by routes.signed_verify
    "int": ("1", "10", "30", "7", "90", "100"),
    "order_group": ("", "upcoming", "placed", "attention", "in_progress", "rejected", "cancelled"),
    "order_sort": ("", "newest", "place_desc", "place_asc"),
    "order_action": ("retry", "send_again", "confirm", "rescue", "send_now", "reject"),
    "msi_action": (
        "quantity",
        "frequency",
        "next_date",
        "pause",
        "skip",
        "cancel",
        "add_item",
        "new_address",
        "save_discount",
    ),
    "item_action": ("item_quantity", "remove_item", "subscribe_item"),
    "subscriber_action": (
        "quantity",
        "frequency",
        "next_date",
        "skip",
        "send_now",
        "swap",
        "add_item",
        "pause",
        "resume",
        "shipping",
        "payment",
        "reminder",
        "cancel",
        "save_discount",
        "reactivate",
    ),
    "save_offer": ("", "skip", "frequency", "discount"),
    "day": ("2030-03-15", "2024-06-01", ""),
    "hour": ("never", "0", "6", "23"),
    "placement_mode": ("api", "batch"),
    "card_names": ("1=VISA 2=MASTERCARD", "3=AMEX", ""),
}
# Near misses of each kind: what a careless or hostile client sends instead.
NEAR = {
    "location": ("x" * 41, "pdp/x", "p d p", "PDP"),
    "frequency": ("999_4", "0_1", "4_9", "1000_2", "4_", "_2", "4_2_2"),
    "frequencies": ("0_0", "4_2 " * 120, "1_5", "4_2,,2_2"),
    "key": ("x" * 25, "o 0", ""),
    "offer_type": ("RADIO", "slider"),
    "bool": ("maybe", "off", "ON"),
    "flag": ("TRUE", "on", "maybe"),
    "password": ("wrong-password-1", ""),
    "next": (
        "//evil.example/",
        "https://evil.example/",
        "/console/../x",
        "/console/\\evil",
        "javascript:alert(1)",
        "/console/settings?x=\x00",
    ),
    "money": (
        "-1",
        "0.001",
        "1e309",
        "NaN",
        "1,5",
        "99999999999999999999.99",
        "1E+1000000",
        "Infinity",
        "-0",
        "5.00.0",
    ),
    "percent": ("101", "0", "-5", "1e-7", "NaN", "Infinity", "1E+999999", "100.0001"),
    "currency": ("usd", "XXX", "ZZZZ", "\u20ac"),
    "timezone": ("../../etc/passwd", "America/Nowhere", "localtime", "Etc/GMT+99"),
    "url": (
        "https://user:pw@evil.example/",
        "ftp://x",
        "https://[::1",
        "http://evil.example/",
        "https://" + "a" * 600,
    ),
    "origins": ("https://evil.example/path", "https://[::1", "ftp://x", "http://evil.example"),
    "incentive_kind": ("bogus",),
    "scope": ("all",),
    "applies_to": ("never",),
    "target": ("none",),
    "override": ("maybe",),
    "order_number": ("0", "999999", "\u00b2", "-1"),
    "show": ("bogus",),
    "ssh_keys": ("ssh-ed25519 AAAA garbage", "ssh-rsa " + "A" * 5000, SSH_KEY + "\nx"),
    "action": ("explode", ""),
    "sig": ("garbage", "%ZZ"),
    "int": ("0", "101", "-1", "1.0"),
    "order_group": ("UPCOMING", "attention ", "all"),
    "order_sort": ("id", "place_date"),
    "order_action": ("explode", "RETRY", "retry/", ""),
    "msi_action": ("explode", "QUANTITY", "quantity/", ""),
    "subscriber_action": ("explode", "QUANTITY", "quantity/", "__init__"),
    "item_action": ("explode", "REMOVE_ITEM", "item_quantity/", "__init__"),
    "save_offer": ("bribe", "SKIP", "skip ", "discount"),
    "day": ("2030-02-30", "15/03/2030", "2030-3-5", "99999-01-01", "2030-03-15T00:00"),
    "hour": ("24", "-1", "07.0", "Never ", "\u0667"),
    "placement_mode": ("API", "sftp", ""),
    "card_names": ("7=X", "1=" + "A" * 41, "1=VISA,,2", "=", "1=VISA 1=" + "B" * 40),
}


# Kinds whose values are ids of the seeded merchants (a Shop attribute).
NAMED = {
    "merchant": "public_id",
    "product": "products",
    "customer": "customers",
    "subscription": "subscriptions",
    "item": "items",
    "order": "orders",
    "purchase": "purchases",
    "incentive": "incentives",
    "feed_run": "feed_runs",
    "order_id": "held_orders",
    "email": "owner_email",
}
# Kinds that are numbers: their hostile values are mostly numbers.
NUMERIC = ("int", "api_key_id", "ts", "order_number", "percent", "money")
