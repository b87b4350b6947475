"""Order placement as Perennial sends it to the demo store (contracts §6.2, §6.3, T6)."""

from __future__ import annotations

import json
import re
import sqlite3
import time

from demo import create_app as create_store
from demo import db as store_db
from demo import recurring, signing

KEY = "Mt!ZQ45q&GHsgiRD8{NB-_h87#rjvbn0"  # the contracts' example hash key (T1)
MERCHANT = "0e5de2bedc5e11e3a2e4bc764e106cf4"
USER = "DC69410241"  # Maya Okafor, a demo customer
PUBLIC_ID = "0a52e64caa1911ecbea15e94dbd6dbd1"
ENDPOINT = "/og/orders"
XML = "application/xml"
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
COFFEE = {
    "product_id": "FF2040101",
    "sku": "81020401011",
    "name": "Café Crème Coffee Beans",
    "qty": 2,
    "price": "16.50",
    "unitary_discount": "1.65",
    "discount": "3.30",
    "finalPrice": "29.70",
}
LITTER = {
    "product_id": "FF3050104",
    "sku": "81030501043",
    "name": "PawPure™ Pine Cat Litter",
    "qty": 1,
    "price": "16.99",
    "unitary_discount": "0.00",
    "discount": "0.00",
    "finalPrice": "16.99",
    "type": "one-time",
}


def item_xml(item: dict) -> str:
    kind = f"<type>{item['type']}</type>" if "type" in item else ""
    return (
        f"<item><publicId>53045416aae111ecb1798e2cf0ff778f</publicId>{kind}"
        f"<qty>{item['qty']}</qty><sku><![CDATA[{item['sku']}]]></sku>"
        f"<name><![CDATA[{item['name']}]]></name>"
        f"<product_id><![CDATA[{item['product_id']}]]></product_id>"
        f"<discount>{item['discount']}</discount>"
        f"<unitary_discount>{item['unitary_discount']}</unitary_discount>"
        f"<finalPrice>{item['finalPrice']}</finalPrice><price>{item['price']}</price></item>"
    )


def order_xml(
    public_id: str = PUBLIC_ID,
    *,
    user: str = USER,
    email: str = "",
    token: str = "tok_visa_4242",  # noqa: S107 - test token
    expiry: str = "12/2099",
    items: tuple[dict, ...] = (COFFEE, LITTER),
    subtotal: str = "46.69",
    shipping: str = "0.00",
    total: str = "46.69",
    currency: str = "USD",
) -> bytes:
    """An order document as contracts §6.3 / T6 describe it, text fields in CDATA."""
    cc_expire = signing.encrypt_field(KEY, expiry) if expiry else ""
    return (
        f"{DECLARATION}<order><head><orderOgId>17071718</orderOgId>"
        f"<orderPublicId>{public_id}</orderPublicId>"
        f"<orderOgDate><![CDATA[2030-03-23]]></orderOgDate>"
        f"<orderSourcePartnerId>196</orderSourcePartnerId>"
        f"<orderSourcePartnerName><![CDATA[Fern & Fable]]></orderSourcePartnerName>"
        f"<orderItemsCount>{len(items)}</orderItemsCount>"
        f"<orderSubtotalValue>{subtotal}</orderSubtotalValue>"
        f"<orderSubtotalDiscount>0.00</orderSubtotalDiscount><orderSalesTax>0.00</orderSalesTax>"
        f"<orderDiscount>3.30</orderDiscount><orderShipping>{shipping}</orderShipping>"
        f"<orderTotalValue>{total}</orderTotalValue><orderCurrency>{currency}</orderCurrency>"
        f"<orderPaymentMethod>CC</orderPaymentMethod><orderCcType><![CDATA[Visa]]></orderCcType>"
        f"<orderCcOwner/><orderCcNumber/><orderCcExpire><![CDATA[{cc_expire}]]></orderCcExpire>"
        f"<orderTokenId><![CDATA[{token}]]></orderTokenId><orderPaymentLabel/></head>"
        f"<customer><customerOgId>4778263</customerOgId>"
        f"<customerPartnerId><![CDATA[{user}]]></customerPartnerId>"
        f"<customerFirstName><![CDATA[Maya]]></customerFirstName>"
        f"<customerLastName><![CDATA[Okafor]]></customerLastName>"
        f"<customerEmail><![CDATA[{email}]]></customerEmail><customerLocale>en-us</customerLocale>"
        f"<customerShippingFirstName><![CDATA[Maya]]></customerShippingFirstName>"
        f"<customerShippingLastName><![CDATA[Okafor]]></customerShippingLastName>"
        f"<customerShippingAddress1><![CDATA[9 Elm Row]]></customerShippingAddress1>"
        f"<customerShippingAddress2/><customerShippingCity><![CDATA[Albany]]></customerShippingCity>"
        f"<customerShippingState><![CDATA[NY]]></customerShippingState>"
        f"<customerShippingZip><![CDATA[12207]]></customerShippingZip>"
        f"<customerShippingPhone/><customerShippingCompany/>"
        f"<customerShippingCountry><![CDATA[US]]></customerShippingCountry></customer>"
        f"<items>{''.join(item_xml(item) for item in items)}</items></order>"
    ).encode()


def authorization(
    user: str = USER,
    *,
    ts: object = None,
    key: str = KEY,
    public_id: str = MERCHANT,
    sig: str | None = None,
) -> str:
    """The JSON Authorization header, signed with the T1 procedure."""
    ts = int(time.time()) if ts is None else ts
    sig = signing.sign(key, user, ts) if sig is None else sig
    return json.dumps({"public_id": public_id, "sig": sig, "ts": ts, "sig_field": user})


def make_store(tmp_path, **config):
    """The demo store on a fresh database, knowing the merchant id and hash key above."""
    return create_store(
        {
            "DEMO_DB": str(tmp_path / "demo.db"),
            "SECRET_KEY": "unit-test",
            "MERCHANT_PUBLIC_ID": MERCHANT,
            "MERCHANT_HASH_KEY": KEY,
            "RECURRING_STALL_SECONDS": 0.3,
            **config,
        }
    )


def post(client, body: bytes | None = None, *, auth: str | None = None, content_type: str = XML):
    headers = {"Content-Type": content_type, "Authorization": auth or authorization()}
    return client.post(ENDPOINT, data=order_xml() if body is None else body, headers=headers)


def reply(response) -> dict[str, str]:
    """The reply's elements by tag, after checking it is XML as contracts §6.4 writes it."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == XML
    text = response.get_data(as_text=True)
    assert text.startswith(DECLARATION + "<order><code>")
    return dict(re.findall(r"<(\w+)>([^<]*)</\1>", text))


def query(store, sql: str, *args) -> list[sqlite3.Row]:
    conn = store_db.connect(store.config["DEMO_DB"])
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def count_orders(store) -> int:
    return query(store, "SELECT COUNT(*) FROM store_order")[0][0]


def set_switch(store, mode: str) -> None:
    """Set the store admin switch for recurring orders, as its form or CLI does."""
    with store.app_context():
        recurring.set_mode(mode)
