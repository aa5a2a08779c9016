-- price_rule.sql: the six examples of API.md 2.1 through the import rule (percentage -> p10)
-- and the generated columns of items. Every row must say ok. Changes nothing: the rows go into a
-- temporary copy of items (CREATE TEMPORARY TABLE ... LIKE keeps the generated columns).
--   mariadb pillivery < core/sql/checks/price_rule.sql

DROP TEMPORARY TABLE IF EXISTS price_rule_item;
DROP TEMPORARY TABLE IF EXISTS price_rule_case;

CREATE TEMPORARY TABLE price_rule_item LIKE items;

CREATE TEMPORARY TABLE price_rule_case (
  case_no INT NOT NULL PRIMARY KEY,
  origin_price BIGINT NOT NULL,
  pct DECIMAL(9,4) NOT NULL,
  exp_rate DECIMAL(6,3) NOT NULL,
  exp_discount_price BIGINT NOT NULL,
  exp_real_price BIGINT NOT NULL
);

INSERT INTO price_rule_case VALUES
  (1, 10000, 10, 0.1, 1000, 9000),
  (2, 11000, 10, 0.1, 1100, 9900),
  (3, 12000, 9, 0.09, 1080, 10920),
  (4, 1010, 5, 0.05, 51, 959),
  (5, 12345, 12.5, 0.125, 1543, 10802),
  (6, 5000, 0, 0.0, 0, 5000);

INSERT INTO price_rule_item (item_id, product_name, origin_price, discount_p10, created_at, updated_at)
SELECT case_no, CONCAT('case ', case_no), origin_price, ROUND(LEAST(GREATEST(pct, 0), 100) * 10),
       UTC_TIMESTAMP(), UTC_TIMESTAMP()
FROM price_rule_case;

SELECT c.origin_price, c.pct AS percentage, i.discount_p10 / 1000 AS discount_rate,
       i.discount_price, i.real_price,
       IF(i.discount_p10 / 1000 = c.exp_rate AND i.discount_price = c.exp_discount_price
          AND i.real_price = c.exp_real_price, 'ok', 'MISMATCH') AS verdict
FROM price_rule_case c JOIN price_rule_item i ON i.item_id = c.case_no
ORDER BY c.case_no;

DROP TEMPORARY TABLE price_rule_item;
DROP TEMPORARY TABLE price_rule_case;
