"""The pricing function, pure: every kind, stacking, boundaries and rounding in minor units."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.services.pricing import (
    CurrencyMismatch,
    Line,
    PricingError,
    Terms,
    describe,
    format_percent,
    ordinal,
    price_order,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
_ids = itertools.count(1)


def inc(kind: str = "percent_off", **kw) -> Terms:
    return Terms(public_id=kw.pop("public_id", f"inc{next(_ids)}"), kind=kind, **kw)


def pct(percent: float, **kw) -> Terms:
    return inc("percent_off", percent_bp=round(percent * 100), **kw)


def off(amount_minor: int, **kw) -> Terms:
    return inc("fixed_off", amount_minor=amount_minor, **kw)


def quote(
    lines, *incentives, order_number=2, is_initial=False, currency="USD", shipping=0, now=NOW
):
    return price_order(
        lines,
        incentives=incentives,
        order_number=order_number,
        is_initial=is_initial,
        currency=currency,
        shipping_minor=shipping,
        now=now,
    )


def test_no_incentives_prices_lines_and_shipping():
    q = quote([Line("A", 1999, 2), Line("B", 500)], shipping=799)
    assert (q.subtotal_minor, q.discount_total_minor, q.shipping_total_minor) == (4498, 0, 799)
    assert q.total_minor == 5297
    assert [line.total_minor for line in q.lines] == [3998, 500]
    assert q.incentive_ids == frozenset()


def test_empty_order_costs_its_shipping_and_gets_no_rules():
    q = quote([], inc("free_shipping"), inc("gift", gift_product="G"), shipping=500)
    assert (q.total_minor, q.shipping_total_minor, q.gifts) == (500, 500, ())


def test_percent_off_item_is_per_unit_times_quantity():
    rule = pct(10, public_id="ten")
    line = quote([Line("A", 1999, 3)], rule).lines[0]
    assert line.unit_discount_minor == 200  # 199.9 rounds half-up to 200
    assert (line.discount_minor, line.total_minor, line.incentive_id) == (600, 5397, "ten")


@pytest.mark.parametrize(
    ("price", "percent", "unit_discount"),
    [
        (1995, 10, 200),  # 199.5 -> 200 (half rounds up)
        (1994, 10, 199),  # 199.4 -> 199
        (1004, 12.5, 126),  # 125.5 -> 126
        (1003, 12.5, 125),  # 125.375 -> 125
        (1, 50, 1),  # 0.5 -> 1
        (1, 49, 0),  # 0.49 -> 0
        (333, 33.33, 111),  # 110.9889 -> 111
        (999, 100, 999),  # all of it, never more
    ],
)
def test_percent_rounds_half_up_per_unit(price, percent, unit_discount):
    line = quote([Line("A", price, 7)], pct(percent)).lines[0]
    assert line.unit_discount_minor == unit_discount
    assert line.discount_minor == unit_discount * 7


def test_fixed_off_item_is_per_unit_and_capped_at_the_unit_price():
    q = quote([Line("A", 1000, 3), Line("B", 300, 2)], off(500))
    assert [(line.unit_discount_minor, line.total_minor) for line in q.lines] == [
        (500, 1500),
        (300, 0),
    ]
    assert q.total_minor == 1500


def test_two_item_level_discounts_give_each_line_its_best_one():
    ten, three = pct(10, public_id="ten"), off(300, public_id="three")
    q = quote([Line("cheap", 2000), Line("dear", 5000)], ten, three)
    assert [(line.incentive_id, line.unit_discount_minor) for line in q.lines] == [
        ("three", 300),
        ("ten", 500),
    ]
    assert q.discount_total_minor == 800  # never 10% and $3 on the same line


def test_order_level_percent_applies_to_the_subtotal_after_item_discounts():
    order5 = pct(5, scope="order", public_id="order5")
    q = quote([Line("A", 1000, 2), Line("B", 555)], pct(10), order5)
    assert q.merchandise_minor == 1800 + 499  # B: 55.5 off rounds to 56
    assert q.order_discount_minor == 115  # 5% of 2299 = 114.95
    assert (q.order_incentive_id, q.total_minor) == ("order5", 2299 - 115)


def test_item_and_order_level_discounts_both_apply():
    item, order = pct(10, public_id="item"), off(500, scope="order", public_id="order")
    q = quote([Line("A", 2500, 2)], item, order, shipping=0)
    assert q.item_discount_minor == 500
    assert q.order_discount_minor == 500
    assert q.total_minor == 5000 - 1000
    assert q.incentive_ids == {"item", "order"}


def test_two_order_level_discounts_give_the_best_one():
    five_off = off(500, scope="order", public_id="five")
    ten_pct = pct(10, scope="order", public_id="ten")
    assert quote([Line("A", 4000)], five_off, ten_pct).order_incentive_id == "five"
    assert quote([Line("A", 6000)], five_off, ten_pct).order_incentive_id == "ten"
    assert quote([Line("A", 6000)], five_off, ten_pct).order_discount_minor == 600


def test_order_percent_rounds_half_up_once_on_the_order():
    q = quote([Line("A", 333), Line("B", 332)], pct(10, scope="order"))
    assert q.order_discount_minor == 67  # 66.5 -> 67, not 33 + 33 per line


def test_fixed_order_discount_never_makes_the_total_negative():
    q = quote([Line("A", 300)], off(10000, scope="order"), shipping=450)
    assert q.order_discount_minor == 300
    assert q.total_minor == 450


@pytest.mark.parametrize(
    ("applies_to", "is_initial", "applied"),
    [
        ("initial", True, True),
        ("initial", False, False),
        ("ongoing", True, False),
        ("ongoing", False, True),
        ("both", True, True),
        ("both", False, True),
    ],
)
def test_initial_and_ongoing(applies_to, is_initial, applied):
    q = quote(
        [Line("A", 1000)],
        pct(10, applies_to=applies_to),
        is_initial=is_initial,
        order_number=1 if is_initial else 2,
    )
    assert q.item_discount_minor == (100 if applied else 0)


@pytest.mark.parametrize(("gross", "applied"), [(5000, True), (4999, False), (5001, True)])
def test_item_threshold_compares_with_the_gross_subtotal(gross, applied):
    q = quote([Line("A", gross)], pct(10, threshold_minor=5000))
    assert (q.item_discount_minor > 0) is applied


@pytest.mark.parametrize(("threshold", "free"), [(4500, True), (4501, False)])
def test_shipping_threshold_compares_with_the_subtotal_after_item_discounts(threshold, free):
    free_over = inc("free_shipping", threshold_minor=threshold)
    q = quote([Line("A", 5000)], pct(10), free_over, shipping=799)  # 5000 - 500 = 4500
    assert q.shipping_total_minor == (0 if free else 799)


@pytest.mark.parametrize(("threshold", "applied"), [(2000, True), (2001, False)])
def test_order_discount_threshold_at_the_boundary(threshold, applied):
    q = quote([Line("A", 1000, 2)], off(300, scope="order", threshold_minor=threshold))
    assert q.order_discount_minor == (300 if applied else 0)


@pytest.mark.parametrize(("order_number", "applied"), [(2, False), (3, True), (4, True)])
def test_tier_from_the_nth_order(order_number, applied):
    q = quote([Line("A", 1000)], pct(20, min_order_number=3), order_number=order_number)
    assert q.item_discount_minor == (200 if applied else 0)


@pytest.mark.parametrize(("order_number", "percent"), [(1, 10), (2, 10), (3, 15), (4, 15)])
def test_tier_ladder_gives_each_order_its_rung(order_number, percent):
    early = pct(10, max_order_number=2)
    later = pct(15, min_order_number=3)
    q = quote(
        [Line("A", 1000)], early, later, order_number=order_number, is_initial=order_number == 1
    )
    assert q.item_discount_minor == percent * 10


@pytest.mark.parametrize(("order_number", "applied"), [(3, False), (4, True), (5, False)])
def test_tier_on_exactly_one_order(order_number, applied):
    q = quote(
        [Line("A", 1000)],
        pct(20, min_order_number=4, max_order_number=4),
        order_number=order_number,
    )
    assert (q.item_discount_minor == 200) is applied


def test_a_line_can_carry_its_own_order_count_in_a_merged_order():
    third = pct(15, min_order_number=3)
    q = quote([Line("A", 1000, order_number=3), Line("B", 1000)], third, order_number=2)
    assert [line.unit_discount_minor for line in q.lines] == [150, 0]


def test_order_level_tiers_use_the_orders_number():
    rule = off(500, scope="order", min_order_number=3)
    assert quote([Line("A", 2000)], rule, order_number=2).order_discount_minor == 0
    assert quote([Line("A", 2000)], rule, order_number=3).order_discount_minor == 500


@pytest.mark.parametrize(
    ("start", "end", "applied"),
    [
        (NOW, None, True),  # starts exactly now
        (NOW + TICK, None, False),  # not started yet
        (None, NOW, False),  # ended exactly now (the end is exclusive)
        (None, NOW + TICK, True),  # ends just after now
        (NOW - timedelta(days=1), NOW + timedelta(days=1), True),
    ],
)
def test_start_and_end_dates(start, end, applied):
    q = quote([Line("A", 1000)], pct(10, starts_at=start, ends_at=end))
    assert (q.item_discount_minor == 100) is applied


def test_inactive_incentives_do_not_apply():
    assert quote([Line("A", 1000)], pct(10, active=False)).item_discount_minor == 0


def test_group_and_product_targeting():
    kibble = pct(10, target="group", target_group="Kibble", public_id="kibble")
    treats = off(100, target="products", target_product_ids={"T1"}, public_id="treats")
    q = quote(
        [Line("K1", 1000, groups={"Kibble"}), Line("T1", 1000), Line("X", 1000)], kibble, treats
    )
    assert [line.incentive_id for line in q.lines] == ["kibble", "treats", None]


def test_targeted_order_discount_is_computed_on_the_targeted_lines_only():
    rule = pct(50, scope="order", target="group", target_group="Kibble")
    q = quote([Line("K1", 1000, groups={"Kibble"}), Line("X", 3000)], rule)
    assert q.order_discount_minor == 500


def test_targeted_order_rules_need_a_targeted_line_in_the_order():
    rule = inc("free_shipping", target="products", target_product_ids={"K1"})
    assert quote([Line("X", 1000)], rule, shipping=500).shipping_total_minor == 500
    assert quote([Line("X", 1000), Line("K1", 10)], rule, shipping=500).shipping_total_minor == 0


def test_free_shipping():
    q = quote([Line("A", 1000)], inc("free_shipping", public_id="free"), shipping=799)
    assert (q.shipping_total_minor, q.shipping_incentive_id, q.total_minor) == (0, "free", 1000)


def test_flat_rate_shipping_replaces_a_dearer_base_rate_only():
    flat = inc("flat_rate_shipping", amount_minor=499, public_id="flat")
    assert quote([Line("A", 1000)], flat, shipping=999).shipping_total_minor == 499
    cheap_base = quote([Line("A", 1000)], flat, shipping=300)
    assert (cheap_base.shipping_total_minor, cheap_base.shipping_incentive_id) == (300, None)


@pytest.mark.parametrize(("price", "shipping"), [(4999, 499), (5000, 0)])
def test_flat_rate_below_a_threshold_free_above(price, shipping):
    flat = inc("flat_rate_shipping", amount_minor=499)
    free_over = inc("free_shipping", threshold_minor=5000)
    assert quote([Line("A", price)], flat, free_over, shipping=899).shipping_total_minor == shipping


def test_shipping_rules_apply_independently_of_discounts():
    q = quote(
        [Line("A", 2000)], pct(10), off(100, scope="order"), inc("free_shipping"), shipping=500
    )
    assert (q.item_discount_minor, q.order_discount_minor, q.shipping_total_minor) == (200, 100, 0)


def test_gift_adds_one_free_unit_once_per_product():
    gift = inc("gift", gift_product="G1", gift_product_pk=7, public_id="gift")
    same = inc("gift", gift_product="G1", public_id="same-gift")
    other = inc("gift", gift_product="G2", public_id="other")
    q = quote([Line("A", 1000)], gift, same, other)
    assert [
        (g.product_id, g.quantity, g.unit_price_minor, g.total_minor, g.incentive_id)
        for g in q.gifts
    ] == [("G1", 1, 0, 0, "gift"), ("G2", 1, 0, 0, "other")]
    assert q.gifts[0].gift and q.gifts[0].product_pk == 7
    assert q.subtotal_minor == q.total_minor == 1000


def test_gift_respects_tiers_and_thresholds():
    gift = inc("gift", gift_product="G1", min_order_number=3, threshold_minor=2000)
    assert quote([Line("A", 2000)], gift, order_number=2).gifts == ()
    assert quote([Line("A", 1999)], gift, order_number=3).gifts == ()
    assert len(quote([Line("A", 2000)], gift, order_number=3).gifts) == 1


def test_best_deal_guarantee_charges_the_lower_sale_price():
    q = quote([Line("A", 2000, 2, best_price_minor=1500)], pct(10))
    line = q.lines[0]
    assert line.best_deal and line.incentive_id is None
    assert (line.unit_discount_minor, line.total_minor) == (500, 3000)


def test_best_deal_guarantee_loses_to_a_bigger_subscription_discount():
    line = quote([Line("A", 2000, best_price_minor=1900)], pct(10, public_id="ten")).lines[0]
    assert (line.best_deal, line.incentive_id, line.unit_discount_minor) == (False, "ten", 200)


def test_best_deal_tie_credits_the_incentive_and_a_higher_price_is_ignored():
    tie = quote([Line("A", 2000, best_price_minor=1800)], pct(10, public_id="ten")).lines[0]
    assert (tie.best_deal, tie.incentive_id) == (False, "ten")
    dearer = quote([Line("A", 2000, best_price_minor=2500)]).lines[0]
    assert (dearer.best_deal, dearer.unit_discount_minor) == (False, 0)


def test_best_deal_still_gets_the_order_level_discount():
    q = quote([Line("A", 2000, best_price_minor=1500)], off(100, scope="order"))
    assert q.total_minor == 1400


def test_a_line_in_another_currency_is_refused():
    with pytest.raises(CurrencyMismatch):
        quote([Line("A", 1000, currency="USD"), Line("B", 1000, currency="EUR")])


def test_money_incentives_in_another_currency_do_not_apply():
    eur_off = off(500, currency="EUR")
    eur_threshold = pct(10, currency="EUR", threshold_minor=100)
    plain_pct = pct(5, currency="EUR", public_id="plain")
    q = quote([Line("A", 1000)], eur_off, eur_threshold, plain_pct, currency="USD")
    assert [(line.incentive_id, line.unit_discount_minor) for line in q.lines] == [("plain", 50)]
    jpy = quote([Line("A", 1000)], off(500, currency="JPY"), currency="JPY")
    assert jpy.total_minor == 500


@pytest.mark.parametrize(
    "bad",
    [
        {"lines": [Line("A", 1000, 0)]},
        {"lines": [Line("A", -1)]},
        {"lines": [Line("A", 1000, True)]},
        {"lines": [Line("A", 10.5)]},
        {"lines": [Line("A", 1000, best_price_minor=-5)]},
        {"order_number": 0},
        {"order_number": 2, "is_initial": True},
        {"shipping": -1},
        {"now": datetime(2026, 6, 1, 12)},
    ],
)
def test_impossible_inputs_are_refused(bad):
    args = {"lines": [Line("A", 1000)], **bad}
    with pytest.raises(PricingError):
        quote(args.pop("lines"), **args)


def test_totals_are_never_negative_with_everything_at_once():
    rules = [
        pct(100),
        off(99999),
        off(99999, scope="order"),
        inc("free_shipping"),
        inc("gift", gift_product="G"),
    ]
    q = quote([Line("A", 1), Line("B", 0, 5)], *rules, shipping=1)
    assert (q.total_minor, q.shipping_total_minor) == (0, 0)
    assert all(line.total_minor >= 0 for line in q.lines)


@pytest.mark.parametrize(
    ("terms", "text"),
    [
        (pct(10), "Save 10% on every order"),
        (pct(12.5, applies_to="ongoing"), "Save 12.5% on every recurring order"),
        (off(500, scope="order", applies_to="initial"), "Save $5.00 on your first order"),
        (off(100), "Save $1.00 per item on every order"),
        (inc("free_shipping", threshold_minor=5000), "Free shipping on every order over $50.00"),
        (inc("flat_rate_shipping", amount_minor=499), "$4.99 flat-rate shipping on every order"),
        (
            inc("gift", gift_name="Chew Toy", applies_to="initial"),
            "Free gift: Chew Toy with your first order",
        ),
        (
            inc("gift", gift_name="Chew Toy", min_order_number=4, max_order_number=4),
            "Free gift: Chew Toy with your 4th order",
        ),
        (pct(15, min_order_number=3), "Save 15% from your 3rd order"),
        (pct(10, max_order_number=2), "Save 10% on your first 2 orders"),
        (pct(20, min_order_number=2, max_order_number=5), "Save 20% on your 2nd to 5th orders"),
        (pct(20, applies_to="ongoing", max_order_number=3), "Save 20% on your 2nd to 3rd orders"),
        (pct(20, applies_to="ongoing", max_order_number=2), "Save 20% on your 2nd order"),
        (
            pct(10, target="group", target_group="Kibble"),
            "Save 10% on every order (Kibble products)",
        ),
        (
            pct(10, target="products", target_product_ids={"A"}),
            "Save 10% on every order (selected products)",
        ),
        (off(1000, currency="EUR", scope="order"), "Save €10.00 on every order"),
        (off(500, currency="JPY", scope="order"), "Save ¥500 on every order"),
        (off(500, currency="SEK", scope="order"), "Save 5.00 SEK on every order"),
    ],
)
def test_describe_gives_shopper_facing_text(terms, text):
    assert describe(terms) == text


def test_formatting_helpers():
    assert format_percent(1005) == "10.05%"
    assert format_percent(1250) == "12.5%"
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]
