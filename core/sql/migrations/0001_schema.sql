-- 0001_schema.sql: the whole Pillivery-C schema (MariaDB 10.11).
--
-- Applied once by the migration runner (`pillivery-api --migrate`, core/migrate.c), which
-- records version 1 in schema_migrations afterwards. Rules for every migration file: plain
-- statements ended by ';' at the end of a line (no DELIMITER, no stored programs, no line ending
-- in ';' inside a comment or a string, no result sets), and, since MariaDB DDL is not
-- transactional, every statement re-runnable (IF NOT EXISTS, INSERT IGNORE) so that a run
-- interrupted half-way can simply be started again.
--
-- Conventions (see core/sql/README.md):
--   * money is BIGINT integer won, never negative.
--   * DATETIME columns hold UTC (the daemons set time_zone = '+00:00' on every connection),
--     DATE columns hold local calendar dates of the shop zone (Asia/Seoul).
--   * ids are BIGINT AUTO_INCREMENT named <table>_id.
--   * Kakao Pay ids and our random tokens (tid, aid, sid, payment_key, partner ids) are
--     compared byte for byte: utf8mb4_bin.
--   * timestamps have no DEFAULT: the application writes them from its (injectable) clock,
--     administrators write UTC_TIMESTAMP().

-- Same shape as the table core/migrate.c creates before it applies anything (this statement is
-- then a no-op). It is here so that the file alone builds the whole schema.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Applied schema migrations (core/sql/migrations)';

-- ---------------------------------------------------------------------------------------------
-- Users (API.md section 3)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS users (
  user_id BIGINT NOT NULL AUTO_INCREMENT,
  email VARCHAR(100) NOT NULL COMMENT 'login name as typed at sign-up, never changed',
  email_key VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (LOWER(email)) STORED
    COMMENT 'LOWER(email): emails are unique case-insensitively',
  password_hash VARCHAR(255) NULL COMMENT 'crypt(3) string (yescrypt or bcrypt $2b$), NULL for a social-only account',
  display_name VARCHAR(30) NULL COMMENT 'nickname, NULL until an OAuth profile is completed',
  display_name_key VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (LOWER(display_name)) STORED
    COMMENT 'LOWER(display_name): nicknames are unique case-insensitively',
  city VARCHAR(100) NULL,
  detail_address VARCHAR(200) NULL,
  real_name VARCHAR(30) NULL,
  phone VARCHAR(20) NULL COMMENT 'as typed, e.g. 010-1234-5678',
  phone_digits VARCHAR(20) AS (REGEXP_REPLACE(phone, '[^0-9]', '')) STORED
    COMMENT 'digits of phone: phones are unique on their digits, NULL phones never conflict',
  role ENUM('USER','ADMIN') NOT NULL DEFAULT 'USER' COMMENT 'ADMIN is granted in SQL only',
  status ENUM('USER_ACTIVE','USER_WITHDRAWAL') NOT NULL DEFAULT 'USER_ACTIVE'
    COMMENT 'a withdrawn user keeps email, display name and phone reserved',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  withdrawn_at DATETIME NULL,
  PRIMARY KEY (user_id),
  UNIQUE KEY uk_users_email (email_key),
  UNIQUE KEY uk_users_display_name (display_name_key),
  UNIQUE KEY uk_users_phone (phone_digits)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Customer and admin accounts (API.md 3). Never deleted: withdrawal is status USER_WITHDRAWAL';

CREATE TABLE IF NOT EXISTS user_oauth (
  user_oauth_id BIGINT NOT NULL AUTO_INCREMENT,
  user_id BIGINT NOT NULL,
  provider VARCHAR(16) NOT NULL COMMENT 'kakao or google (the {provider} path segment)',
  provider_user_id VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    COMMENT 'kakao id / google sub, compared exactly',
  email VARCHAR(100) NULL COMMENT 'email the provider reported when the identity was linked',
  linked_at DATETIME NOT NULL,
  PRIMARY KEY (user_oauth_id),
  UNIQUE KEY uk_user_oauth_identity (provider, provider_user_id),
  KEY idx_user_oauth_user (user_id, provider),
  CONSTRAINT fk_user_oauth_user FOREIGN KEY (user_id) REFERENCES users (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='OAuth identities linked to a user (API.md 3.7). A user with a row here is social=true';

-- ---------------------------------------------------------------------------------------------
-- Catalogue (API.md sections 2.1, 2.9, 2.10 and 4)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS categories (
  category_id BIGINT NOT NULL COMMENT 'fixed ids 1..9, equal to sort_order',
  name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'API name, matched case-sensitively',
  label VARCHAR(30) NOT NULL COMMENT 'Korean label',
  sort_order SMALLINT NOT NULL COMMENT 'order of names in categoryNameSet and in the category string',
  PRIMARY KEY (category_id),
  UNIQUE KEY uk_categories_name (name),
  UNIQUE KEY uk_categories_sort (sort_order)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='The nine item categories of API.md 2.10 in their fixed order. Reference data: do not edit';

INSERT IGNORE INTO categories (category_id, name, label, sort_order) VALUES
  (1, 'EYE', '눈', 1),
  (2, 'BONE', '뼈,골다공증', 2),
  (3, 'BRAIN', '두뇌', 3),
  (4, 'INTESTINE', '배변,장,유산균', 4),
  (5, 'LIVER', '간', 5),
  (6, 'SKIN', '피부', 6),
  (7, 'ANTIOXIDANT', '항산화', 7),
  (8, 'FATIGUE', '피로,혈액순환', 8),
  (9, 'ETC', '기타', 9);

CREATE TABLE IF NOT EXISTS items (
  item_id BIGINT NOT NULL AUTO_INCREMENT,
  thumbnail VARCHAR(500) NULL COMMENT 'image URL',
  description_image VARCHAR(500) NULL COMMENT 'image URL',
  product_name VARCHAR(200) NOT NULL COMMENT 'searched by keyword (substring)',
  enterprise VARCHAR(100) NULL COMMENT 'maker or brand, searched by /api/items/brands (substring)',
  statement_number VARCHAR(30) NULL COMMENT 'MFDS report number (품목제조신고번호)',
  registered_date VARCHAR(8) NULL COMMENT 'YYYYMMDD as text, e.g. 20220225',
  distribution_period VARCHAR(200) NULL COMMENT '유통기한',
  sungsang VARCHAR(500) NULL COMMENT '성상: appearance',
  serving_use VARCHAR(500) NULL COMMENT '섭취방법',
  preserve_period VARCHAR(500) NULL COMMENT '보관방법',
  intake TEXT NULL COMMENT '섭취시 주의사항',
  main_function TEXT NULL COMMENT '주된 기능성',
  base_standard TEXT NULL COMMENT '기준규격',
  origin_price BIGINT NOT NULL COMMENT 'list price in won, >= 0',
  discount_p10 SMALLINT NOT NULL DEFAULT 0
    COMMENT 'discount in tenths of a percent 0..1000 = round-half-up(clamped percentage x 10), discountRate = p10/1000',
  discount_price BIGINT AS ((origin_price * discount_p10 + 500) DIV 1000) STORED
    COMMENT 'derived, API.md 2.1 step 4: round-half-up(origin_price x p10 / 1000)',
  real_price BIGINT AS (origin_price - (origin_price * discount_p10 + 500) DIV 1000) STORED
    COMMENT 'derived, API.md 2.1 step 5: what the customer pays per unit',
  sales BIGINT NOT NULL DEFAULT 0 COMMENT 'units sold: + line quantity at approval, + quantity per recurring charge, never decreased',
  review_size INT NOT NULL DEFAULT 0 COMMENT 'number of ACTIVE reviews, recomputed in the review transaction',
  star_avg_x100 INT NOT NULL DEFAULT 0 COMMENT 'mean star of ACTIVE reviews in hundredths, rounded half-up (450 = 4.5), 0 when none',
  views BIGINT NOT NULL DEFAULT 0 COMMENT 'unique views per client per day, flushed from Redis every 10 min',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (item_id),
  KEY idx_items_sales (sales DESC, item_id),
  KEY idx_items_price_h (real_price DESC, item_id),
  KEY idx_items_price_l (real_price, item_id),
  KEY idx_items_discount_h (discount_p10 DESC, item_id),
  KEY idx_items_discount_l (discount_p10, item_id),
  KEY idx_items_review_count (review_size DESC, item_id),
  CONSTRAINT chk_items_origin_price CHECK (origin_price >= 0),
  CONSTRAINT chk_items_discount_p10 CHECK (discount_p10 BETWEEN 0 AND 1000),
  CONSTRAINT chk_items_registered_date CHECK (registered_date IS NULL OR registered_date REGEXP '^[0-9]{8}$'),
  CONSTRAINT chk_items_counters CHECK (sales >= 0 AND review_size >= 0 AND views >= 0),
  CONSTRAINT chk_items_star_avg CHECK (star_avg_x100 BETWEEN 0 AND 500)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Catalogue, administered in SQL (no write API). Write origin_price and discount_p10 only: discount_price and real_price are generated';

CREATE TABLE IF NOT EXISTS item_categories (
  item_id BIGINT NOT NULL,
  category_id BIGINT NOT NULL,
  PRIMARY KEY (item_id, category_id),
  KEY idx_item_categories_category (category_id, item_id),
  CONSTRAINT fk_item_categories_item FOREIGN KEY (item_id) REFERENCES items (item_id) ON DELETE CASCADE,
  CONSTRAINT fk_item_categories_category FOREIGN KEY (category_id) REFERENCES categories (category_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Category set of each item (0..9 categories). An item without rows has categories = null';

-- ---------------------------------------------------------------------------------------------
-- Carts (API.md sections 2.2 and 5)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS carts (
  cart_id BIGINT NOT NULL AUTO_INCREMENT,
  user_id BIGINT NOT NULL,
  kind ENUM('NORMAL','SUBSCRIPTION') NOT NULL COMMENT 'each user has one cart of each kind, deleted at withdrawal',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (cart_id),
  UNIQUE KEY uk_carts_user_kind (user_id, kind),
  CONSTRAINT fk_carts_user FOREIGN KEY (user_id) REFERENCES users (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='The normal and the subscription cart of every user, created with the account';

CREATE TABLE IF NOT EXISTS cart_items (
  cart_item_id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'lines are listed in cart_item_id order (order added)',
  cart_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  quantity INT NOT NULL COMMENT '1..999',
  period INT NOT NULL DEFAULT 0 COMMENT 'days: 0 in a NORMAL cart, 30..365 in a SUBSCRIPTION cart',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (cart_item_id),
  UNIQUE KEY uk_cart_items_cart_item (cart_id, item_id),
  KEY idx_cart_items_item (item_id),
  CONSTRAINT fk_cart_items_cart FOREIGN KEY (cart_id) REFERENCES carts (cart_id) ON DELETE CASCADE,
  CONSTRAINT fk_cart_items_item FOREIGN KEY (item_id) REFERENCES items (item_id),
  CONSTRAINT chk_cart_items_quantity CHECK (quantity BETWEEN 1 AND 999),
  CONSTRAINT chk_cart_items_period CHECK (period = 0 OR period BETWEEN 30 AND 365)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Cart lines. No prices stored: totals are computed from the current item prices';

-- ---------------------------------------------------------------------------------------------
-- Orders (API.md sections 2.3, 2.4 and 6)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orders (
  order_id BIGINT NOT NULL AUTO_INCREMENT,
  user_id BIGINT NOT NULL,
  status ENUM('REQUEST','COMPLETE','PARTIAL_REFUND','REFUND','CANCELED') NOT NULL DEFAULT 'REQUEST'
    COMMENT 'API.md 2.4: REQUEST -> COMPLETE -> PARTIAL_REFUND -> REFUND, REQUEST -> CANCELED',
  is_subscription BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'any line is a subscription line (pays with the subscription CID)',
  ordered_at_cart BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'orderedAtCart: remove the items from the carts when paid',
  is_renewal BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'created COMPLETE by a successful recurring charge',
  subscription_id BIGINT NULL COMMENT 'renewal orders only: the subscription charged',
  cycle_date DATE NULL COMMENT 'renewal orders only: the cycle charged (local date)',
  receiver_real_name VARCHAR(30) NOT NULL,
  receiver_phone VARCHAR(20) NOT NULL,
  receiver_city VARCHAR(100) NOT NULL,
  receiver_detail_address VARCHAR(200) NOT NULL,
  total_items INT NOT NULL COMMENT 'number of lines',
  total_quantity INT NOT NULL COMMENT 'sum of line quantities',
  total_price BIGINT NOT NULL COMMENT 'sum origin_price x quantity over the line snapshots',
  total_discount_price BIGINT NOT NULL COMMENT 'sum discount_price x quantity over the line snapshots',
  expect_price BIGINT NOT NULL COMMENT 'the amount charged = total_price - total_discount_price',
  refunded_amount BIGINT NOT NULL DEFAULT 0
    COMMENT 'sum of CONFIRMED refunds (refundedAmount), updated in the same transaction as the refund row',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  paid_at DATETIME NULL COMMENT 'approval time (renewal: charge time)',
  canceled_at DATETIME NULL COMMENT 'when it became CANCELED',
  PRIMARY KEY (order_id),
  UNIQUE KEY uk_orders_renewal_cycle (subscription_id, cycle_date),
  KEY idx_orders_user (user_id, order_id),
  KEY idx_orders_user_status (user_id, status, order_id),
  KEY idx_orders_status_created (status, created_at),
  KEY idx_orders_paid_at (paid_at),
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (user_id),
  CONSTRAINT chk_orders_counts CHECK (total_items >= 1 AND total_quantity >= total_items),
  CONSTRAINT chk_orders_money CHECK (total_price >= 0 AND total_discount_price >= 0
    AND expect_price = total_price - total_discount_price AND expect_price >= 0),
  CONSTRAINT chk_orders_refunded CHECK (refunded_amount BETWEEN 0 AND expect_price),
  CONSTRAINT chk_orders_renewal CHECK ((is_renewal = 0 AND subscription_id IS NULL AND cycle_date IS NULL)
    OR (is_renewal = 1 AND subscription_id IS NOT NULL AND cycle_date IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Orders: one-time and first subscription orders (POST /api/orders) and renewal orders (recurring charges)';

CREATE TABLE IF NOT EXISTS order_items (
  order_item_id BIGINT NOT NULL AUTO_INCREMENT,
  order_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  quantity INT NOT NULL COMMENT '1..999',
  is_subscription BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'subscription line',
  period INT NOT NULL DEFAULT 0 COMMENT 'days: 30..365 for a subscription line, 0 otherwise',
  origin_price BIGINT NOT NULL COMMENT 'snapshot of items.origin_price when the order was placed',
  discount_p10 SMALLINT NOT NULL COMMENT 'snapshot of items.discount_p10 (discountRate = p10/1000)',
  discount_price BIGINT NOT NULL COMMENT 'snapshot of items.discount_price',
  real_price BIGINT NOT NULL COMMENT 'snapshot of items.real_price: the unit price charged',
  subscription_id BIGINT NULL
    COMMENT 'subscriptionOrderId: the subscription created from this line (set at approval) or charged by it (renewal line)',
  created_at DATETIME NOT NULL,
  PRIMARY KEY (order_item_id),
  KEY idx_order_items_order (order_id, order_item_id),
  KEY idx_order_items_order_item (order_id, item_id),
  KEY idx_order_items_item (item_id),
  KEY idx_order_items_subscription (subscription_id),
  CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT fk_order_items_item FOREIGN KEY (item_id) REFERENCES items (item_id),
  CONSTRAINT chk_order_items_quantity CHECK (quantity BETWEEN 1 AND 999),
  CONSTRAINT chk_order_items_period CHECK ((is_subscription = 0 AND period = 0)
    OR (is_subscription = 1 AND period BETWEEN 30 AND 365)),
  CONSTRAINT chk_order_items_prices CHECK (origin_price >= 0 AND discount_p10 BETWEEN 0 AND 1000
    AND discount_price = (origin_price * discount_p10 + 500) DIV 1000
    AND real_price = origin_price - discount_price)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Order lines with their price snapshots (API.md 2.3): later catalogue changes never alter them';

-- ---------------------------------------------------------------------------------------------
-- Payments and refunds (API.md section 7, KAKAOPAY.md 1.5, 1.6, 1.9, 1.10, 3)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS payments (
  payment_id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'approve payload is pay:<payment_id>',
  order_id BIGINT NOT NULL,
  ready_no INT NOT NULL COMMENT 'n-th ready of the order: partner_order_id = O<order_id>-R<n>',
  status ENUM('CREATED','READY','APPROVING','APPROVED','CANCELED','FAILED','EXPIRED','SUPERSEDED') NOT NULL DEFAULT 'CREATED'
    COMMENT 'CREATED (before the ready call) -> READY -> APPROVING -> APPROVED, or -> CANCELED/FAILED/EXPIRED/SUPERSEDED',
  payment_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    COMMENT '32 random base64url chars, in the public cancel and fail URLs',
  cid VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'one-time or subscription CID used for ready',
  partner_order_id VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  partner_user_id VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'U<user_id>',
  item_name VARCHAR(100) NOT NULL COMMENT 'item_name sent to Kakao Pay',
  quantity INT NOT NULL COMMENT 'total quantity sent',
  amount BIGINT NOT NULL COMMENT 'total_amount sent (the order expect_price)',
  tax_free_amount BIGINT NOT NULL DEFAULT 0,
  tid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL COMMENT 'from the ready answer, NULL while CREATED',
  next_redirect_pc_url VARCHAR(255) NULL,
  next_redirect_mobile_url VARCHAR(255) NULL,
  gateway_created_at DATETIME NULL COMMENT 'created_at of the ready answer (UTC)',
  ready_at DATETIME NULL COMMENT 'our clock when READY was stored: expiry is ready_at + 15 min',
  approving_at DATETIME NULL COMMENT 'when an approve claimed the record (status APPROVING)',
  aid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  sid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL COMMENT 'issued by the approval of a subscription-CID payment',
  payment_method_type VARCHAR(16) NULL COMMENT 'CARD or MONEY',
  approved_total BIGINT NULL COMMENT 'amount.total of the approval',
  approved_tax_free BIGINT NULL,
  approved_vat BIGINT NULL,
  approved_point BIGINT NULL,
  approved_discount BIGINT NULL,
  approved_at DATETIME NULL COMMENT 'approved_at of the approval (UTC)',
  approval_result JSON NULL COMMENT 'the JSON data answered by the approve route, answered again on a replay',
  closed_at DATETIME NULL COMMENT 'when it became CANCELED, FAILED, EXPIRED or SUPERSEDED',
  last_error_code VARCHAR(32) NULL COMMENT 'last gateway error code (-702) or TIMEOUT, NETWORK, HTTP_5XX',
  last_error_message VARCHAR(500) NULL,
  flagged_at DATETIME NULL COMMENT 'set by the daily reconciliation on a mismatch with Kakao Pay',
  flag_reason VARCHAR(255) NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  approved_order_id BIGINT AS (IF(status = 'APPROVED', order_id, NULL)) STORED
    COMMENT 'order_id while APPROVED, else NULL: unique, so an order is paid at most once',
  PRIMARY KEY (payment_id),
  UNIQUE KEY uk_payments_order_ready (order_id, ready_no),
  UNIQUE KEY uk_payments_payment_key (payment_key),
  UNIQUE KEY uk_payments_partner_order (partner_order_id),
  UNIQUE KEY uk_payments_tid (tid),
  UNIQUE KEY uk_payments_one_approved (approved_order_id),
  KEY idx_payments_status_ready (status, ready_at),
  KEY idx_payments_sid (sid),
  KEY idx_payments_approved_at (approved_at),
  CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT chk_payments_ready_no CHECK (ready_no >= 1),
  CONSTRAINT chk_payments_money CHECK (amount >= 0 AND tax_free_amount BETWEEN 0 AND amount),
  CONSTRAINT chk_payments_tid CHECK (status = 'CREATED' OR tid IS NOT NULL OR closed_at IS NOT NULL),
  CONSTRAINT chk_payments_approved CHECK (status <> 'APPROVED' OR (aid IS NOT NULL AND approved_at IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='One row per Kakao Pay ready of an order. Only the newest READY row of an order can be approved';

CREATE TABLE IF NOT EXISTS refunds (
  refund_id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'cancel payload is ref:<refund_id>',
  order_id BIGINT NOT NULL,
  payment_id BIGINT NOT NULL COMMENT 'the APPROVED payment refunded',
  request_no INT NOT NULL COMMENT 'n-th refund request of the payment',
  status ENUM('PENDING','CONFIRMED','QUEUED','FAILED','FLAGGED') NOT NULL DEFAULT 'PENDING'
    COMMENT 'PENDING (written before the call) -> CONFIRMED | QUEUED (outbox) | FAILED (not applied) | FLAGGED (review)',
  amount BIGINT NOT NULL COMMENT 'cancel_amount',
  tax_free_amount BIGINT NOT NULL DEFAULT 0 COMMENT 'cancel_tax_free_amount',
  cancel_available_amount BIGINT NOT NULL COMMENT 'our ledger value sent: expect_price - other CONFIRMED/PENDING/QUEUED/FLAGGED refunds',
  requested_by_user_id BIGINT NULL COMMENT 'owner or admin who asked',
  aid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  gateway_canceled_total BIGINT NULL COMMENT 'canceled_amount.total Kakao Pay reported after this refund',
  confirmed_at DATETIME NULL,
  last_error_code VARCHAR(32) NULL,
  last_error_message VARCHAR(500) NULL,
  flagged_at DATETIME NULL,
  flag_reason VARCHAR(255) NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (refund_id),
  UNIQUE KEY uk_refunds_request (payment_id, request_no),
  KEY idx_refunds_order_status (order_id, status),
  KEY idx_refunds_status_created (status, created_at),
  CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT fk_refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (payment_id),
  CONSTRAINT fk_refunds_requested_by FOREIGN KEY (requested_by_user_id) REFERENCES users (user_id),
  CONSTRAINT chk_refunds_request_no CHECK (request_no >= 1),
  CONSTRAINT chk_refunds_money CHECK (amount >= 1 AND tax_free_amount BETWEEN 0 AND amount
    AND cancel_available_amount >= amount),
  CONSTRAINT chk_refunds_confirmed CHECK (status <> 'CONFIRMED' OR confirmed_at IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Full or partial refunds (API.md 7.5). Reserved amount = rows in PENDING, CONFIRMED, QUEUED, FLAGGED';

-- ---------------------------------------------------------------------------------------------
-- Subscriptions, cycles and billing attempts (API.md 2.5 to 2.7 and 8, KAKAOPAY.md 1.7, 3)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS subscriptions (
  subscription_id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'subscriptionOrderId in the API',
  user_id BIGINT NOT NULL,
  order_id BIGINT NOT NULL COMMENT 'the initial order whose approval created it',
  order_item_id BIGINT NOT NULL COMMENT 'the subscription line of the initial order',
  item_id BIGINT NOT NULL,
  payment_id BIGINT NOT NULL COMMENT 'the approved payment that issued the SID',
  quantity INT NOT NULL COMMENT '1..999, effective from the next charge',
  period INT NOT NULL COMMENT 'P: days between cycles, 30..365',
  status ENUM('SUBSCRIPTION','PAUSED','SUBSCRIBE_PAYMENT_FAIL','SUBSCRIBE_CANCEL') NOT NULL DEFAULT 'SUBSCRIPTION'
    COMMENT 'API.md 2.5, SUBSCRIBE_CANCEL is terminal',
  first_payment_date DATE NOT NULL COMMENT 'F: local date of the initial approval, anchor of the schedule',
  last_payment_date DATE NOT NULL COMMENT 'L: local date of the last successful charge',
  last_settled_cycle_date DATE NOT NULL COMMENT 'C: latest cycle PAID or SKIPPED',
  next_payment_date DATE NULL
    COMMENT 'next cycle to charge (the open cycle while retrying), NULL when paused, cancelled or retries exhausted',
  cid VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'subscription CID that issued the SID',
  sid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'Kakao Pay SID, may be shared by the subscriptions of one order',
  partner_user_id VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    COMMENT 'the partner_user_id of the ready that issued the SID, repeated in every charge',
  receiver_real_name VARCHAR(30) NOT NULL COMMENT 'copied from the initial order',
  receiver_phone VARCHAR(20) NOT NULL,
  receiver_city VARCHAR(100) NOT NULL,
  receiver_detail_address VARCHAR(200) NOT NULL,
  paused_at DATETIME NULL COMMENT 'set while PAUSED only',
  canceled_at DATETIME NULL COMMENT 'set when SUBSCRIBE_CANCEL',
  cancel_reason ENUM('CUSTOMER','ADMIN','WITHDRAWAL') NULL,
  retry_state ENUM('NONE','SCHEDULED','UNKNOWN','EXHAUSTED') NOT NULL DEFAULT 'NONE' COMMENT 'retry.state, API.md 2.7',
  retry_state_before_unknown ENUM('NONE','SCHEDULED','EXHAUSTED') NULL
    COMMENT 'state restored when the reconciler proves an UNKNOWN attempt charged nothing',
  failed_cycle_date DATE NULL COMMENT 'retry.failedCycleDate: the open unpaid cycle',
  retry_attempts INT NOT NULL DEFAULT 0 COMMENT 'retry.attempts: declined attempts counted on the open cycle',
  next_retry_at DATETIME NULL COMMENT 'retry.nextRetryAt, only while SCHEDULED',
  last_failure_at DATETIME NULL,
  last_failure_code VARCHAR(32) NULL COMMENT 'gateway code as text (-782) or TIMEOUT, NETWORK, HTTP_5XX',
  last_failure_message VARCHAR(500) NULL,
  charge_hold_until DATETIME NULL
    COMMENT 'no automatic attempt before this time, e.g. after RETRY_LATER (-429) until 00:00 KST, NULL = no hold',
  charge_hold_reason VARCHAR(64) NULL COMMENT 'outcome class or code that set the hold',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (subscription_id),
  UNIQUE KEY uk_subscriptions_order_item (order_item_id),
  KEY idx_subscriptions_due (status, next_payment_date, subscription_id),
  KEY idx_subscriptions_retry_due (retry_state, next_retry_at),
  KEY idx_subscriptions_user (user_id, subscription_id),
  KEY idx_subscriptions_user_status (user_id, status, subscription_id),
  KEY idx_subscriptions_order (order_id),
  KEY idx_subscriptions_sid (sid, status),
  KEY idx_subscriptions_item (item_id),
  CONSTRAINT fk_subscriptions_user FOREIGN KEY (user_id) REFERENCES users (user_id),
  CONSTRAINT fk_subscriptions_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT fk_subscriptions_order_item FOREIGN KEY (order_item_id) REFERENCES order_items (order_item_id),
  CONSTRAINT fk_subscriptions_item FOREIGN KEY (item_id) REFERENCES items (item_id),
  CONSTRAINT fk_subscriptions_payment FOREIGN KEY (payment_id) REFERENCES payments (payment_id),
  CONSTRAINT chk_subscriptions_quantity CHECK (quantity BETWEEN 1 AND 999),
  CONSTRAINT chk_subscriptions_period CHECK (period BETWEEN 30 AND 365),
  CONSTRAINT chk_subscriptions_dates CHECK (last_payment_date >= first_payment_date
    AND last_settled_cycle_date >= first_payment_date
    AND (next_payment_date IS NULL OR next_payment_date > first_payment_date)),
  CONSTRAINT chk_subscriptions_paused CHECK ((status = 'PAUSED') = (paused_at IS NOT NULL)),
  CONSTRAINT chk_subscriptions_canceled CHECK ((status = 'SUBSCRIBE_CANCEL') = (canceled_at IS NOT NULL)),
  CONSTRAINT chk_subscriptions_no_next CHECK (status NOT IN ('PAUSED','SUBSCRIBE_CANCEL') OR next_payment_date IS NULL),
  CONSTRAINT chk_subscriptions_retry_by_status CHECK (
    (status = 'SUBSCRIPTION' AND retry_state IN ('NONE','UNKNOWN'))
    OR (status = 'PAUSED' AND retry_state = 'NONE')
    OR (status = 'SUBSCRIBE_PAYMENT_FAIL' AND retry_state <> 'NONE')
    OR status = 'SUBSCRIBE_CANCEL'),
  CONSTRAINT chk_subscriptions_retry_none CHECK (retry_state <> 'NONE'
    OR (failed_cycle_date IS NULL AND retry_attempts = 0 AND next_retry_at IS NULL)),
  CONSTRAINT chk_subscriptions_retry_at CHECK ((retry_state = 'SCHEDULED') = (next_retry_at IS NOT NULL)),
  CONSTRAINT chk_subscriptions_retry_attempts CHECK (retry_attempts >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='One subscription per subscription line of a paid order, charged every period days on its SID';

CREATE TABLE IF NOT EXISTS billing_attempt (
  billing_attempt_id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'charge payload is att:<billing_attempt_id>',
  subscription_id BIGINT NOT NULL,
  cycle_date DATE NOT NULL COMMENT 'the cycle charged (local date)',
  attempt_no INT NOT NULL COMMENT 'numbers every attempt row of the cycle from 1, whatever its outcome',
  status ENUM('PENDING','APPROVED','DECLINED','FAILED','UNKNOWN') NOT NULL DEFAULT 'PENDING'
    COMMENT 'PENDING -> APPROVED | DECLINED | FAILED | UNKNOWN, UNKNOWN -> APPROVED | FAILED by the reconciler or an admin',
  initiated_by ENUM('SCHEDULE','RETRY','ADMIN') NOT NULL COMMENT 'due cycle, scheduled retry, or admin charge now',
  outcome VARCHAR(16) NULL
    COMMENT 'gateway outcome class: OK, DECLINED, SID_DEAD, LIMIT, UNKNOWN, NOT_SENT, RETRY_LATER, INVALID, CONFIG',
  counted BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'counted by the retry policy (retry.attempts)',
  partner_order_id VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
    COMMENT 'S<subscription_id>-C<YYYYMMDD>-A<attempt_no>, never sent twice',
  partner_user_id VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  cid VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  sid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  item_id BIGINT NOT NULL,
  item_name VARCHAR(100) NOT NULL,
  quantity INT NOT NULL,
  origin_price BIGINT NOT NULL COMMENT 'price snapshot at claim time, copied to the renewal order line',
  discount_p10 SMALLINT NOT NULL COMMENT 'price snapshot at claim time',
  discount_price BIGINT NOT NULL COMMENT 'price snapshot at claim time',
  real_price BIGINT NOT NULL COMMENT 'price snapshot at claim time: the unit price charged',
  amount BIGINT NOT NULL COMMENT 'total_amount sent = quantity x real_price',
  tid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL COMMENT 'new tid of this charge, from the answer',
  aid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  approved_amount BIGINT NULL COMMENT 'amount.total of the answer',
  amount_mismatch BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'approved_amount <> amount: APPROVED anyway, alerted',
  approved_at DATETIME NULL,
  approval_result JSON NULL COMMENT 'approve-shaped JSON answered by charge now, also on a replay',
  order_id BIGINT NULL COMMENT 'the renewal order created by this APPROVED attempt',
  error_code VARCHAR(32) NULL COMMENT 'gateway code (-782) or TIMEOUT, NETWORK, HTTP_5XX',
  error_message VARCHAR(500) NULL,
  method_result_code VARCHAR(64) NULL COMMENT 'extras.method_result_code',
  claimed_at DATETIME NOT NULL COMMENT 'when the row was committed, before the call',
  claimed_by VARCHAR(64) NULL COMMENT 'daemon instance (host:pid) that claimed it',
  finished_at DATETIME NULL COMMENT 'when the outcome was recorded',
  probe_count SMALLINT NOT NULL DEFAULT 0 COMMENT 'SID status probes made by the reconciler',
  last_probe_at DATETIME NULL,
  last_probe_result VARCHAR(255) NULL,
  needs_admin BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'UNKNOWN the reconciler cannot settle (probably charged, or open > 24 h)',
  admin_verdict ENUM('CHARGED','NOT_CHARGED') NULL
    COMMENT 'entered by an operator on an UNKNOWN attempt, verified and applied by the reconciler (KAKAOPAY.md 3)',
  admin_tid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
    COMMENT 'verdict CHARGED: the TID found in the Kakao Pay partner admin, checked by an order lookup before APPROVED',
  admin_verdict_by VARCHAR(100) NULL,
  admin_verdict_at DATETIME NULL,
  resolved_by ENUM('GATEWAY','RECONCILER','ADMIN') NULL COMMENT 'who settled an UNKNOWN attempt',
  resolution_note VARCHAR(500) NULL,
  flagged_at DATETIME NULL COMMENT 'set by the daily reconciliation on a mismatch',
  flag_reason VARCHAR(255) NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  approved_flag TINYINT AS (IF(status = 'APPROVED', 1, NULL)) STORED
    COMMENT '1 while APPROVED, else NULL: at most one APPROVED attempt per (subscription, cycle)',
  open_flag TINYINT AS (IF(status IN ('PENDING','UNKNOWN'), 1, NULL)) STORED
    COMMENT '1 while PENDING or UNKNOWN, else NULL: at most one open attempt per (subscription, cycle)',
  open_sid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (IF(status IN ('PENDING','UNKNOWN'), sid, NULL)) STORED
    COMMENT 'sid while PENDING or UNKNOWN, else NULL: at most one open attempt per SID',
  PRIMARY KEY (billing_attempt_id),
  UNIQUE KEY uk_billing_attempt_no (subscription_id, cycle_date, attempt_no),
  UNIQUE KEY uk_billing_attempt_one_approved (subscription_id, cycle_date, approved_flag),
  UNIQUE KEY uk_billing_attempt_one_open (subscription_id, cycle_date, open_flag),
  UNIQUE KEY uk_billing_attempt_one_open_sid (open_sid),
  UNIQUE KEY uk_billing_attempt_partner_order (partner_order_id),
  KEY idx_billing_attempt_status_claimed (status, claimed_at),
  KEY idx_billing_attempt_subscription_status (subscription_id, status),
  KEY idx_billing_attempt_tid (tid),
  KEY idx_billing_attempt_order (order_id),
  KEY idx_billing_attempt_approved_at (approved_at),
  CONSTRAINT fk_billing_attempt_subscription FOREIGN KEY (subscription_id) REFERENCES subscriptions (subscription_id),
  CONSTRAINT fk_billing_attempt_item FOREIGN KEY (item_id) REFERENCES items (item_id),
  CONSTRAINT fk_billing_attempt_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT chk_billing_attempt_no CHECK (attempt_no >= 1),
  CONSTRAINT chk_billing_attempt_prices CHECK (origin_price >= 0 AND discount_p10 BETWEEN 0 AND 1000
    AND discount_price = (origin_price * discount_p10 + 500) DIV 1000
    AND real_price = origin_price - discount_price),
  CONSTRAINT chk_billing_attempt_money CHECK (quantity BETWEEN 1 AND 999
    AND amount = quantity * real_price AND (approved_amount IS NULL OR approved_amount >= 0)),
  CONSTRAINT chk_billing_attempt_approved CHECK (status <> 'APPROVED' OR tid IS NOT NULL),
  CONSTRAINT chk_billing_attempt_admin_tid CHECK (admin_verdict IS NULL OR admin_verdict <> 'CHARGED' OR admin_tid IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Every recurring charge attempt, committed before the gateway call (KAKAOPAY.md 3). Unique keys make double charges impossible';

CREATE TABLE IF NOT EXISTS subscription_cycles (
  subscription_cycle_id BIGINT NOT NULL AUTO_INCREMENT,
  subscription_id BIGINT NOT NULL,
  cycle_date DATE NOT NULL COMMENT 'F + k x P (local date)',
  status ENUM('PAID','SKIPPED','RETRYING','UNKNOWN','FAILED') NOT NULL
    COMMENT 'RETRYING and UNKNOWN are open, FAILED = retries exhausted or cancelled while unpaid',
  attempts INT NOT NULL DEFAULT 0 COMMENT 'attempts made on this cycle',
  amount BIGINT NULL COMMENT 'amount charged, PAID only',
  order_id BIGINT NULL COMMENT 'PAID only: initial order for the first cycle, renewal order later',
  paid_at DATETIME NULL COMMENT 'PAID only',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  PRIMARY KEY (subscription_cycle_id),
  UNIQUE KEY uk_subscription_cycles_cycle (subscription_id, cycle_date),
  KEY idx_subscription_cycles_order (order_id),
  KEY idx_subscription_cycles_status (status, cycle_date),
  CONSTRAINT fk_subscription_cycles_subscription FOREIGN KEY (subscription_id) REFERENCES subscriptions (subscription_id),
  CONSTRAINT fk_subscription_cycles_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT chk_subscription_cycles_attempts CHECK (attempts >= 0),
  CONSTRAINT chk_subscription_cycles_paid CHECK (
    (status = 'PAID' AND amount IS NOT NULL AND amount >= 0 AND order_id IS NOT NULL AND paid_at IS NOT NULL)
    OR (status <> 'PAID' AND amount IS NULL AND order_id IS NULL AND paid_at IS NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Settled and open cycles of each subscription (the cycles list of API.md 8.1)';

-- Back references from orders to subscriptions, added once both tables exist.
ALTER TABLE orders
  ADD CONSTRAINT fk_orders_subscription FOREIGN KEY IF NOT EXISTS (subscription_id) REFERENCES subscriptions (subscription_id);

ALTER TABLE order_items
  ADD CONSTRAINT fk_order_items_subscription FOREIGN KEY IF NOT EXISTS (subscription_id) REFERENCES subscriptions (subscription_id);

-- ---------------------------------------------------------------------------------------------
-- Reviews (API.md sections 2.8 and 9)
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS reviews (
  review_id BIGINT NOT NULL AUTO_INCREMENT,
  user_id BIGINT NOT NULL,
  order_id BIGINT NOT NULL,
  item_id BIGINT NOT NULL,
  content VARCHAR(2000) NOT NULL,
  star TINYINT NOT NULL COMMENT '1..5',
  display_name VARCHAR(30) NULL COMMENT 'copied from the writer at create and update',
  status ENUM('ACTIVE','INACTIVE') NOT NULL DEFAULT 'ACTIVE' COMMENT 'reviewStatus: delete is soft, INACTIVE is invisible',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  deleted_at DATETIME NULL,
  active_flag TINYINT AS (IF(status = 'ACTIVE', 1, NULL)) STORED
    COMMENT '1 while ACTIVE, else NULL: one ACTIVE review per (user, order, item)',
  PRIMARY KEY (review_id),
  UNIQUE KEY uk_reviews_one_active (user_id, order_id, item_id, active_flag),
  KEY idx_reviews_item_created (item_id, status, created_at, review_id),
  KEY idx_reviews_item_star (item_id, status, star, review_id),
  KEY idx_reviews_item_star_l (item_id, status, star, review_id DESC),
  KEY idx_reviews_user_created (user_id, status, created_at, review_id),
  KEY idx_reviews_user_star (user_id, status, star, review_id),
  KEY idx_reviews_user_star_l (user_id, status, star, review_id DESC),
  KEY idx_reviews_order (order_id),
  CONSTRAINT fk_reviews_user FOREIGN KEY (user_id) REFERENCES users (user_id),
  CONSTRAINT fk_reviews_order FOREIGN KEY (order_id) REFERENCES orders (order_id),
  CONSTRAINT fk_reviews_item FOREIGN KEY (item_id) REFERENCES items (item_id),
  CONSTRAINT chk_reviews_star CHECK (star BETWEEN 1 AND 5),
  CONSTRAINT chk_reviews_deleted CHECK ((status = 'INACTIVE') = (deleted_at IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Item reviews. items.review_size and star_avg_x100 are recomputed from ACTIVE rows in the same transaction';

-- ---------------------------------------------------------------------------------------------
-- Outbox (API.md 7.9): refunds queued, SID inactivations, notifications
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS api_event (
  api_event_id BIGINT NOT NULL AUTO_INCREMENT,
  kind VARCHAR(64) NOT NULL COMMENT 'what to do, e.g. REFUND, SID_INACTIVATE, NOTIFY_RETRY_EXHAUSTED (names owned by core)',
  payload JSON NOT NULL COMMENT 'kind-specific arguments, e.g. {"refundId": 5}',
  status ENUM('PENDING','SENDING','DONE') NOT NULL DEFAULT 'PENDING'
    COMMENT 'PENDING -> SENDING (lease until next_attempt_at) -> DONE, or back to PENDING with back-off',
  tries INT NOT NULL DEFAULT 0 COMMENT 'delivery attempts made',
  next_attempt_at DATETIME NOT NULL COMMENT 'due time while PENDING, lease expiry while SENDING',
  last_error VARCHAR(1000) NULL,
  dedup_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
    COMMENT 'optional unique key against double enqueueing, e.g. sid-inactivate:<sid>',
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  done_at DATETIME NULL,
  PRIMARY KEY (api_event_id),
  UNIQUE KEY uk_api_event_dedup (dedup_key),
  KEY idx_api_event_due (status, next_attempt_at),
  KEY idx_api_event_kind (kind, status),
  CONSTRAINT chk_api_event_tries CHECK (tries >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Transactional outbox, forwarded by the billing daemon with back-off 1 min .. 1 h. Entries failing for 3 days move to outbox_failed';

CREATE TABLE IF NOT EXISTS outbox_failed (
  outbox_failed_id BIGINT NOT NULL AUTO_INCREMENT,
  api_event_id BIGINT NOT NULL COMMENT 'id the event had in api_event (reused when requeued)',
  kind VARCHAR(64) NOT NULL,
  payload JSON NOT NULL,
  tries INT NOT NULL,
  last_error VARCHAR(1000) NULL,
  dedup_key VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  event_created_at DATETIME NOT NULL COMMENT 'created_at of the original event',
  failed_at DATETIME NOT NULL COMMENT 'when the forwarder gave up',
  requeued_at DATETIME NULL COMMENT 'set when an admin put it back into api_event, NULL = still failed',
  requeued_by VARCHAR(100) NULL COMMENT 'admin who requeued it',
  PRIMARY KEY (outbox_failed_id),
  KEY idx_outbox_failed_open (requeued_at, failed_at),
  KEY idx_outbox_failed_event (api_event_id),
  KEY idx_outbox_failed_kind (kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Outbox events given up after the retry window. Nothing is dropped: an admin requeues them in SQL (README)';
