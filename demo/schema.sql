-- The demo store's own data. Created on start-up if missing; delete the file to reset.
-- Changes are additive: new tables here, new columns also in db.ADDED_COLUMNS for old files.
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
    total_cents INTEGER NOT NULL,
    -- recurring orders may carry an order-level discount and tax (db.ADDED_COLUMNS)
    discount_cents INTEGER NOT NULL DEFAULT 0,
    tax_cents INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS order_line (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES store_order (id),
    product_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    one_time INTEGER NOT NULL DEFAULT 0  -- a one-time add-on in a recurring order (db.ADDED_COLUMNS)
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

-- Recurring orders Perennial placed at POST /og/orders (contracts §6). The primary key is the
-- platform's orderPublicId: one store order each, even for two identical POSTs at once.
CREATE TABLE IF NOT EXISTS recurring_order (
    order_public_id TEXT PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE REFERENCES store_order (id),
    og_order_id TEXT NOT NULL,
    og_order_date TEXT NOT NULL,
    customer_partner_id TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Every POST to /og/orders and the store's answer, refusals included (the newest 1,000 kept).
CREATE TABLE IF NOT EXISTS recurring_delivery (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL,         -- accepted | repeat | declined | refused | unreadable
    error_code TEXT,
    reason TEXT NOT NULL,
    order_public_id TEXT,
    customer_partner_id TEXT,
    order_number TEXT
);

-- Store admin switches, e.g. recurring_orders = accept | decline_140 | ... (demo.recurring).
CREATE TABLE IF NOT EXISTS store_setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
