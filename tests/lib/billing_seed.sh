#!/usr/bin/env bash
# billing_seed.sh: creates N due subscriptions straight in SQL, each on its own ACTIVE SID
# issued by the fake Kakao Pay (POST /__control/sid), for the billing benchmark and the
# billing fault tests. One user, one paid initial order with N subscription lines, one
# payment; every subscription is due on DUE (default: today in Asia/Seoul).
#
#   billing_seed.sh SOCKET DBNAME FAKE_URL N [PERIOD_DAYS] [DUE_DATE] [ITEM_ID]
#
# Prints "seeded N subscriptions S..E" (their id range) on success.
set -eu
sock=$1 dbname=$2 fake=$3 n=$4
period=${5:-30}
due=${6:-$(TZ=Asia/Seoul date +%F)}
item=${7:-1}
tag=$(date +%s%N)
cid=TCSUBSCRIP
sql() { mariadb --no-defaults -S "$sock" -uroot "$dbname" "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sql -N -e "INSERT INTO users (email, password_hash, display_name, city, detail_address, real_name,
  role, status, created_at, updated_at) VALUES ('seed.$tag@bench.example', NULL, 'seed$tag',
  '서울', '강남구 1', '시드', 'USER', 'USER_ACTIVE', UTC_TIMESTAMP(), UTC_TIMESTAMP());
  SELECT LAST_INSERT_ID();" > "$tmp/user"
uid=$(cat "$tmp/user")
puid="U$uid"

# SIDs from the fake, up to 100000 per call
left=$n
: > "$tmp/sids"
while [ "$left" -gt 0 ]; do
	take=$((left > 100000 ? 100000 : left))
	curl -sf -X POST "$fake/__control/sid" -H 'Content-Type: application/json' \
		-d "{\"cid\":\"$cid\",\"partner_user_id\":\"$puid\",\"count\":$take}" |
		tr -d '[]{}" \n' | sed 's/^sids://' | tr ',' '\n' >> "$tmp/sids"
	left=$((left - take))
done
got=$(grep -c . "$tmp/sids" || true)
[ "$got" = "$n" ] || { echo "billing_seed: the fake issued $got SIDs, not $n" >&2; exit 1; }
awk 'BEGIN { printf "INSERT INTO seed_sid (n, sid) VALUES " }
     { printf "%s(%d,'\''%s'\'')", (NR > 1 ? "," : ""), NR, $1 } END { print ";" }' \
	"$tmp/sids" > "$tmp/sids.sql"

{
	cat <<SQL
SET @uid = $uid, @n = $n, @period = $period, @due = DATE('$due'), @item = $item;
SET @first = @due - INTERVAL @period DAY;
CREATE TEMPORARY TABLE seed_sid (n INT PRIMARY KEY, sid VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin);
SQL
	cat "$tmp/sids.sql"
	cat <<SQL
SELECT origin_price, discount_p10, discount_price, real_price INTO @op, @p10, @dp, @rp
  FROM items WHERE item_id = @item;
INSERT INTO orders (user_id, status, is_subscription, receiver_real_name, receiver_phone,
  receiver_city, receiver_detail_address, total_items, total_quantity, total_price,
  total_discount_price, expect_price, created_at, updated_at, paid_at)
  VALUES (@uid, 'COMPLETE', 1, '시드', '010-0000-0000', '서울', '강남구 1', @n, @n, @op * @n,
  @dp * @n, @rp * @n, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP());
SET @oid = LAST_INSERT_ID();
INSERT INTO payments (order_id, ready_no, status, payment_key, cid, partner_order_id,
  partner_user_id, item_name, quantity, amount, tid, aid, sid, approved_at, created_at, updated_at)
  VALUES (@oid, 1, 'APPROVED', CONCAT('seed-', @oid), '$cid', CONCAT('O', @oid, '-R1'),
  CONCAT('U', @uid), 'seed', @n, @rp * @n, CONCAT('Tseed', @oid), CONCAT('Aseed', @oid),
  (SELECT sid FROM seed_sid WHERE n = 1), UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP());
SET @pid = LAST_INSERT_ID();
INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price,
  discount_p10, discount_price, real_price, created_at)
  SELECT @oid, @item, 1, 1, @period, @op, @p10, @dp, @rp, UTC_TIMESTAMP() FROM seed_sid ORDER BY n;
INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id, payment_id, quantity, period,
  status, first_payment_date, last_payment_date, last_settled_cycle_date, next_payment_date, cid,
  sid, partner_user_id, receiver_real_name, receiver_phone, receiver_city,
  receiver_detail_address, created_at, updated_at)
  SELECT @uid, @oid, oi.order_item_id, @item, @pid, 1, @period, 'SUBSCRIPTION', @first, @first,
  @first, @due, '$cid', s.sid, CONCAT('U', @uid), '시드', '010-0000-0000', '서울', '강남구 1',
  UTC_TIMESTAMP(), UTC_TIMESTAMP()
  FROM (SELECT order_item_id, ROW_NUMBER() OVER (ORDER BY order_item_id) AS n
        FROM order_items WHERE order_id = @oid) oi JOIN seed_sid s ON s.n = oi.n;
UPDATE order_items oi JOIN subscriptions s ON s.order_item_id = oi.order_item_id
  SET oi.subscription_id = s.subscription_id WHERE oi.order_id = @oid;
INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts, amount, order_id,
  paid_at, created_at, updated_at)
  SELECT subscription_id, @first, 'PAID', 1, @rp, @oid, UTC_TIMESTAMP(), UTC_TIMESTAMP(),
  UTC_TIMESTAMP() FROM subscriptions WHERE order_id = @oid;
SELECT CONCAT('seeded ', COUNT(*), ' subscriptions ', MIN(subscription_id), '..',
  MAX(subscription_id)) FROM subscriptions WHERE order_id = @oid;
SQL
} > "$tmp/seed.sql"
sql -N < "$tmp/seed.sql"
