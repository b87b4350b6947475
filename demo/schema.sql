-- The demo store's own data. Created on start-up if missing; delete the file to reset.
CREATE TABLE IF NOT EXISTS customer (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    address2 TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    state_province_code TEXT NOT NULL DEFAULT '',
    zip_postal_code TEXT NOT NULL DEFAULT '',
    country_code TEXT NOT NULL DEFAULT 'US'
);

CREATE TABLE IF NOT EXISTS store_order (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number TEXT UNIQUE,
    user_id TEXT NOT NULL REFERENCES customer (user_id),
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ship_first_name TEXT NOT NULL,
    ship_last_name TEXT NOT NULL,
    ship_company_name TEXT NOT NULL,
    ship_address TEXT NOT NULL,
    ship_address2 TEXT NOT NULL,
    ship_city TEXT NOT NULL,
    ship_state_province_code TEXT NOT NULL,
    ship_zip_postal_code TEXT NOT NULL,
    ship_country_code TEXT NOT NULL,
    ship_phone TEXT NOT NULL,
    payment_token TEXT NOT NULL,
    cc_type TEXT NOT NULL,
    cc_exp_date TEXT NOT NULL,
    card_label TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal_cents INTEGER NOT NULL,
    shipping_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS order_line (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES store_order (id),
    product_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS store_order_user ON store_order (user_id, id);
CREATE INDEX IF NOT EXISTS order_line_order ON order_line (order_id);

-- Every checkout's purchase POST to Perennial (contracts §5), kept until it is through.
CREATE TABLE IF NOT EXISTS purchase_post (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_number TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | sent | failed | abandoned
    attempts INTEGER NOT NULL,
    http_status INTEGER,
    response TEXT,
    subs_req_id TEXT,
    next_attempt_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchase_post_due ON purchase_post (status, next_attempt_at);
