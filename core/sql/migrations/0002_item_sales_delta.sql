-- 0002: sales added by recurring charges, folded into items.sales in batches.
--
-- Every renewal order adds its quantity to its item's sales (API.md §2.9). Writing
-- items.sales in the charge's own transaction makes the item row the one lock every charge of
-- that item waits for (and, with the foreign-key locks of order_items, a deadlock between two
-- batches of charges). Instead the charge's transaction inserts one row here, atomically with
-- its renewal order, and the billing daemon folds the rows into items.sales a moment later
-- (one short transaction: add, then delete what was added). Nothing is lost on a crash, and
-- nothing is counted twice; items.sales lags the charges by at most one billing pass.
-- Administrators: SELECT item_id, SUM(quantity) FROM item_sales_delta GROUP BY item_id shows
-- sales not folded yet.

CREATE TABLE IF NOT EXISTS item_sales_delta (
  item_sales_delta_id BIGINT NOT NULL AUTO_INCREMENT,
  item_id BIGINT NOT NULL COMMENT 'no foreign key: the fold checks nothing and items are never deleted',
  quantity INT NOT NULL COMMENT 'units sold by one recurring charge',
  order_id BIGINT NOT NULL COMMENT 'the renewal order that sold them',
  created_at DATETIME NOT NULL,
  PRIMARY KEY (item_sales_delta_id),
  CONSTRAINT chk_item_sales_delta_quantity CHECK (quantity >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
  COMMENT='Sales of recurring charges not yet added to items.sales (folded by pillivery-billing)';
