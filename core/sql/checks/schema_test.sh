#!/usr/bin/env bash
# schema_test.sh SOCKET: constraint tests of core/sql against a throwaway MariaDB server.
#
# Creates the scratch database pv_schema_test on the server at SOCKET (user root, no password),
# applies every migration the way `pillivery-api --migrate` does (one statement per ';' at the end
# of a line, each on its own connection) twice to prove the files re-run, loads the demo catalogue
# twice, checks its prices against API.md 2.1, then tests that the unique keys and CHECK
# constraints reject and accept what they must. Drops the scratch database at the end.
# Never point it at a server that holds data you care about.
set -u
sock=${1:?usage: schema_test.sh SOCKET}
here=$(cd "$(dirname "$0")" && pwd)
sql=$(dirname "$here")
DB=pv_schema_test
M=(mariadb --no-defaults -S "$sock" -uroot)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0

# split FILE: cut it into $tmp/stmt.NNNNN on ';' at the end of a line, as the runner does, and
# refuse comment-only pieces (a comment line ending in ';') and text after the last statement.
split() {
	rm -f "$tmp"/stmt.*
	awk -v dir="$tmp" '{ buf = buf $0 "\n" } /;[ \t\r]*$/ { n++; f = sprintf("%s/stmt.%05d", dir, n); printf "%s", buf > f; close(f); buf = "" }
		END { gsub(/(^|\n)[ \t]*--[^\n]*/, "", buf); if (buf ~ /[^ \t\r\n]/) { print "text after the last statement" > "/dev/stderr"; exit 1 } }' "$1" || return 1
	local f
	for f in "$tmp"/stmt.*; do
		if [ -z "$(grep -v -E '^[[:space:]]*--' "$f" | tr -d '[:space:]')" ]; then
			echo "comment-only statement in $1 (a comment line ends with ;):"; cat "$f"; return 1
		fi
	done
}
# apply FILE: split it and run each statement on its own connection.
apply() {
	split "$1" || return 1
	local f
	for f in "$tmp"/stmt.*; do
		"${M[@]}" "$DB" --init-command="SET time_zone='+00:00'" <"$f" || { echo "failed in $1:"; cat "$f"; return 1; }
	done
}
run() { "${M[@]}" "$DB" --init-command="SET time_zone='+00:00'" -e "$1" 2>&1; }
expect_ok() { local out; out=$(run "$2"); if [ -z "$out" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL - $1: $out"; fi; }
expect_err() { local out; out=$(run "$3"); if echo "$out" | grep -q "ERROR $2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL - $1: expected ERROR $2, got: ${out:-success}"; fi; }
expect_val() { local out; out=$("${M[@]}" "$DB" -N -B -e "$3" 2>&1); if [ "$out" = "$2" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL - $1: expected '$2', got '$out'"; fi; }

"${M[@]}" -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB" || exit 1
for round in 1 2; do
	for f in "$sql"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
		apply "$f" || exit 1
	done
done
# the seed needs one session (temporary tables): lint it like a migration, load it with the client
split "$sql"/seed/demo_catalogue.sql || exit 1
for round in 1 2; do
	"${M[@]}" "$DB" <"$sql"/seed/demo_catalogue.sql || exit 1
done
NOW="UTC_TIMESTAMP()"

# --- demo catalogue
expect_val "66 demo items, loaded once" "66" "SELECT COUNT(*) FROM items"
expect_val "every category used" "9" "SELECT COUNT(DISTINCT category_id) FROM item_categories"
expect_val "an item without category" "62" "SELECT item_id FROM items WHERE item_id NOT IN (SELECT item_id FROM item_categories)"
expect_val "derived prices follow the rule" "0" "SELECT COUNT(*) FROM items WHERE discount_price <> ROUND(origin_price * discount_p10 / 1000) OR real_price <> origin_price - discount_price"
expect_val "edge percentages: 20, 12.45, -5, 0.05, 33.33" "200 125 0 1 333" "SELECT GROUP_CONCAT(discount_p10 ORDER BY item_id SEPARATOR ' ') FROM items WHERE item_id BETWEEN 62 AND 66"
out=$("${M[@]}" "$DB" -N -B <"$here"/price_rule.sql 2>&1)
if [ "$(echo "$out" | awk '$NF == "ok"' | wc -l)" -eq 6 ] && ! echo "$out" | grep -q MISMATCH; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL - price rule examples: $out"; fi
# --- users
expect_ok "user 1" "INSERT INTO users (email, password_hash, display_name, phone, created_at, updated_at) VALUES ('Kim@Example.com', '\$2b\$x', 'Kim', '010-1234-5678', $NOW, $NOW)"
expect_err "email differing only in case" 1062 "INSERT INTO users (email, created_at, updated_at) VALUES ('kim@example.COM', $NOW, $NOW)"
expect_err "display name differing only in case" 1062 "INSERT INTO users (email, display_name, created_at, updated_at) VALUES ('b@x.com', 'KIM', $NOW, $NOW)"
expect_err "phone with the same digits" 1062 "INSERT INTO users (email, phone, created_at, updated_at) VALUES ('c@x.com', '01012345678', $NOW, $NOW)"
expect_ok "two users with NULL phone and NULL display name" "INSERT INTO users (email, created_at, updated_at) VALUES ('d@x.com', $NOW, $NOW), ('e@x.com', $NOW, $NOW)"
expect_ok "admin user" "INSERT INTO users (email, display_name, role, created_at, updated_at) VALUES ('admin@x.com', 'admin', 'ADMIN', $NOW, $NOW)"
expect_err "unknown role" 1265 "INSERT INTO users (email, role, created_at, updated_at) VALUES ('f@x.com', 'ROOT', $NOW, $NOW)"
expect_val "email_key is lower case" "kim@example.com" "SELECT email_key FROM users WHERE user_id = 1"
expect_val "phone_digits" "01012345678" "SELECT phone_digits FROM users WHERE user_id = 1"
expect_ok "oauth link" "INSERT INTO user_oauth (user_id, provider, provider_user_id, email, linked_at) SELECT user_id, 'kakao', '12345', 'd@x.com', $NOW FROM users WHERE email = 'd@x.com'"
expect_err "same provider identity twice" 1062 "INSERT INTO user_oauth (user_id, provider, provider_user_id, linked_at) SELECT user_id, 'kakao', '12345', $NOW FROM users WHERE email = 'e@x.com'"

# --- carts
expect_ok "carts of user 1" "INSERT INTO carts (user_id, kind, created_at, updated_at) VALUES (1, 'NORMAL', $NOW, $NOW), (1, 'SUBSCRIPTION', $NOW, $NOW)"
expect_err "second normal cart" 1062 "INSERT INTO carts (user_id, kind, created_at, updated_at) VALUES (1, 'NORMAL', $NOW, $NOW)"
expect_ok "cart line" "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (1, 1, 2, 0, $NOW, $NOW), (2, 1, 1, 30, $NOW, $NOW)"
expect_err "same item twice in a cart" 1062 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (1, 1, 1, 0, $NOW, $NOW)"
expect_err "quantity 1000" 4025 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (1, 2, 1000, 0, $NOW, $NOW)"
expect_err "quantity 0" 4025 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (1, 2, 0, 0, $NOW, $NOW)"
expect_err "period 29" 4025 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (2, 2, 1, 29, $NOW, $NOW)"
expect_err "period 366" 4025 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (2, 2, 1, 366, $NOW, $NOW)"
expect_err "unknown item" 1452 "INSERT INTO cart_items (cart_id, item_id, quantity, period, created_at, updated_at) VALUES (1, 999, 1, 0, $NOW, $NOW)"

# --- order 1 (user 1): 11000 @ 10% x2 (subscription 30 d) + 10000 @ 0% x1
expect_ok "order" "INSERT INTO orders (user_id, is_subscription, receiver_real_name, receiver_phone, receiver_city, receiver_detail_address, total_items, total_quantity, total_price, total_discount_price, expect_price, created_at, updated_at) VALUES (1, 1, '홍길동', '010-1111-1111', '서울', '101 번지', 2, 3, 32000, 2200, 29800, $NOW, $NOW)"
expect_err "order totals inconsistent" 4025 "INSERT INTO orders (user_id, receiver_real_name, receiver_phone, receiver_city, receiver_detail_address, total_items, total_quantity, total_price, total_discount_price, expect_price, created_at, updated_at) VALUES (1, 'a', 'b', 'c', 'd', 1, 1, 100, 10, 100, $NOW, $NOW)"
expect_ok "order lines" "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price, discount_p10, discount_price, real_price, created_at) VALUES (1, 1, 2, 1, 30, 11000, 100, 1100, 9900, $NOW), (1, 2, 1, 0, 0, 10000, 0, 0, 10000, $NOW)"
expect_err "line snapshot inconsistent" 4025 "INSERT INTO order_items (order_id, item_id, quantity, origin_price, discount_p10, discount_price, real_price, created_at) VALUES (1, 3, 1, 10000, 100, 999, 9001, $NOW)"
expect_err "one-time line with a period" 4025 "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price, discount_p10, discount_price, real_price, created_at) VALUES (1, 3, 1, 0, 30, 0, 0, 0, 0, $NOW)"
expect_err "subscription line with period 0" 4025 "INSERT INTO order_items (order_id, item_id, quantity, is_subscription, period, origin_price, discount_p10, discount_price, real_price, created_at) VALUES (1, 3, 1, 1, 0, 0, 0, 0, 0, $NOW)"

# --- payments
P="INSERT INTO payments (order_id, ready_no, status, payment_key, cid, partner_order_id, partner_user_id, item_name, quantity, amount, tid, ready_at, created_at, updated_at)"
expect_ok "ready 1" "$P VALUES (1, 1, 'READY', 'keyA', 'TCSUBSCRIP', 'O1-R1', 'U1', 'x 그 외 1개', 3, 29800, 'T0000000000000000001', $NOW, $NOW, $NOW)"
expect_ok "ready 2 (same order)" "$P VALUES (1, 2, 'READY', 'keya', 'TCSUBSCRIP', 'O1-R2', 'U1', 'x 그 외 1개', 3, 29800, 'T0000000000000000002', $NOW, $NOW, $NOW)"
expect_err "payment_key is case-sensitive but unique" 1062 "$P VALUES (1, 3, 'READY', 'keyA', 'TCSUBSCRIP', 'O1-R3', 'U1', 'x', 3, 29800, 'T0000000000000000003', $NOW, $NOW, $NOW)"
expect_err "same ready_no twice" 1062 "$P VALUES (1, 2, 'READY', 'keyB', 'TCSUBSCRIP', 'O1-R9', 'U1', 'x', 3, 29800, 'T0000000000000000009', $NOW, $NOW, $NOW)"
expect_err "READY without tid" 4025 "$P VALUES (1, 4, 'READY', 'keyC', 'TCSUBSCRIP', 'O1-R4', 'U1', 'x', 3, 29800, NULL, $NOW, $NOW, $NOW)"
expect_ok "ready 1 superseded, ready 2 approved" "UPDATE payments SET status='SUPERSEDED', closed_at=UTC_TIMESTAMP() WHERE payment_id=1; UPDATE payments SET status='APPROVED', aid='A1', sid='S0000000000000000001', approved_total=29800, approved_at=UTC_TIMESTAMP(), approval_result='{\"amount\":{\"total\":29800}}' WHERE payment_id=2"
expect_err "second APPROVED payment of one order" 1062 "UPDATE payments SET status='APPROVED', aid='A2', approved_at=UTC_TIMESTAMP() WHERE payment_id=1"
expect_err "APPROVED without aid" 4025 "$P VALUES (1, 5, 'APPROVED', 'keyD', 'TCSUBSCRIP', 'O1-R5', 'U1', 'x', 3, 29800, 'T0000000000000000005', $NOW, $NOW, $NOW)"
expect_err "invalid JSON approval result" 4025 "UPDATE payments SET approval_result='{not json' WHERE payment_id=2"
expect_ok "order complete" "UPDATE orders SET status='COMPLETE', paid_at=UTC_TIMESTAMP() WHERE order_id=1"

# --- refunds
R="INSERT INTO refunds (order_id, payment_id, request_no, status, amount, cancel_available_amount, created_at, updated_at)"
expect_ok "refund" "$R VALUES (1, 2, 1, 'PENDING', 1000, 29800, $NOW, $NOW)"
expect_err "same refund request twice" 1062 "$R VALUES (1, 2, 1, 'PENDING', 1000, 29800, $NOW, $NOW)"
expect_err "refund of 0" 4025 "$R VALUES (1, 2, 2, 'PENDING', 0, 29800, $NOW, $NOW)"
expect_err "refunded more than paid" 4025 "UPDATE orders SET refunded_amount = 29801 WHERE order_id = 1"

# --- subscription
S="INSERT INTO subscriptions (user_id, order_id, order_item_id, item_id, payment_id, quantity, period, first_payment_date, last_payment_date, last_settled_cycle_date, next_payment_date, cid, sid, partner_user_id, receiver_real_name, receiver_phone, receiver_city, receiver_detail_address, created_at, updated_at)"
expect_ok "subscription" "$S VALUES (1, 1, 1, 1, 2, 2, 30, '2026-01-01', '2026-01-01', '2026-01-01', '2026-01-31', 'TCSUBSCRIP', 'S0000000000000000001', 'U1', '홍길동', '010-1111-1111', '서울', '101 번지', $NOW, $NOW)"
expect_err "second subscription for one line" 1062 "$S VALUES (1, 1, 1, 1, 2, 2, 30, '2026-01-01', '2026-01-01', '2026-01-01', '2026-01-31', 'TCSUBSCRIP', 'S0000000000000000001', 'U1', 'a', 'b', 'c', 'd', $NOW, $NOW)"
expect_ok "line linked to its subscription" "UPDATE order_items SET subscription_id = 1 WHERE order_item_id = 1"
expect_err "link to unknown subscription" 1452 "UPDATE order_items SET subscription_id = 99 WHERE order_item_id = 2"
expect_err "period 366" 4025 "UPDATE subscriptions SET period = 366 WHERE subscription_id = 1"
expect_err "PAUSED without paused_at" 4025 "UPDATE subscriptions SET status = 'PAUSED', next_payment_date = NULL WHERE subscription_id = 1"
expect_err "PAUSED keeping a next date" 4025 "UPDATE subscriptions SET status = 'PAUSED', paused_at = UTC_TIMESTAMP() WHERE subscription_id = 1"
expect_ok "pause" "UPDATE subscriptions SET status = 'PAUSED', paused_at = UTC_TIMESTAMP(), next_payment_date = NULL WHERE subscription_id = 1"
expect_ok "resume" "UPDATE subscriptions SET status = 'SUBSCRIPTION', paused_at = NULL, next_payment_date = '2026-04-01' WHERE subscription_id = 1"
expect_err "SCHEDULED without next_retry_at" 4025 "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state = 'SCHEDULED', failed_cycle_date = '2026-04-01', retry_attempts = 1 WHERE subscription_id = 1"
expect_err "PAYMENT_FAIL with retry NONE" 4025 "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL' WHERE subscription_id = 1"
expect_ok "declined: SUBSCRIBE_PAYMENT_FAIL, SCHEDULED" "UPDATE subscriptions SET status = 'SUBSCRIBE_PAYMENT_FAIL', retry_state = 'SCHEDULED', failed_cycle_date = '2026-04-01', retry_attempts = 2, next_retry_at = '2026-04-02 01:00:05', last_failure_at = UTC_TIMESTAMP(), last_failure_code = '-782' WHERE subscription_id = 1"
expect_err "back to SUBSCRIPTION without resetting retry" 4025 "UPDATE subscriptions SET status = 'SUBSCRIPTION', retry_state = 'NONE' WHERE subscription_id = 1"

# --- billing attempts
A="INSERT INTO billing_attempt (subscription_id, cycle_date, attempt_no, status, initiated_by, partner_order_id, partner_user_id, cid, sid, item_id, item_name, quantity, origin_price, discount_p10, discount_price, real_price, amount, tid, claimed_at, created_at, updated_at)"
expect_ok "attempt 1 DECLINED" "$A VALUES (1, '2026-04-01', 1, 'DECLINED', 'SCHEDULE', 'S1-C20260401-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_ok "attempt 2 PENDING" "$A VALUES (1, '2026-04-01', 2, 'PENDING', 'RETRY', 'S1-C20260401-A2', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "same attempt number twice" 1062 "$A VALUES (1, '2026-04-01', 2, 'DECLINED', 'RETRY', 'S1-C20260401-A2b', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "second open (PENDING) attempt of the cycle" 1062 "$A VALUES (1, '2026-04-01', 3, 'PENDING', 'RETRY', 'S1-C20260401-A3', 'U1', 'TCSUBSCRIP', 'S0000000000000000002', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "second open attempt on the same SID (other cycle)" 1062 "$A VALUES (1, '2026-05-01', 1, 'PENDING', 'SCHEDULE', 'S1-C20260501-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "partner_order_id reused" 1062 "$A VALUES (1, '2026-04-01', 3, 'DECLINED', 'RETRY', 'S1-C20260401-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "amount not quantity x unit price" 4025 "$A VALUES (1, '2026-04-01', 3, 'DECLINED', 'RETRY', 'S1-C20260401-A3', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19000, NULL, $NOW, $NOW, $NOW)"
expect_ok "attempt 2 APPROVED" "UPDATE billing_attempt SET status = 'APPROVED', tid = 'T0000000000000000010', aid = 'A10', approved_amount = 19800, approved_at = UTC_TIMESTAMP() WHERE attempt_no = 2"
expect_err "APPROVED without tid" 4025 "$A VALUES (1, '2026-04-01', 3, 'APPROVED', 'ADMIN', 'S1-C20260401-A3', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "second APPROVED attempt of the same cycle (insert)" 1062 "$A VALUES (1, '2026-04-01', 3, 'APPROVED', 'ADMIN', 'S1-C20260401-A3', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, 'T0000000000000000011', $NOW, $NOW, $NOW)"
expect_err "second APPROVED attempt of the same cycle (update)" 1062 "UPDATE billing_attempt SET status = 'APPROVED', tid = 'T0000000000000000012' WHERE attempt_no = 1 AND cycle_date = '2026-04-01'"
expect_ok "attempt 3 PENDING then UNKNOWN (cycle and SID free again)" "$A VALUES (1, '2026-04-01', 3, 'PENDING', 'ADMIN', 'S1-C20260401-A3', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW); UPDATE billing_attempt SET status = 'UNKNOWN' WHERE attempt_no = 3"
expect_err "open attempt while another is UNKNOWN on the SID" 1062 "$A VALUES (1, '2026-05-01', 1, 'PENDING', 'SCHEDULE', 'S1-C20260501-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"
expect_err "UNKNOWN settled as APPROVED is a second approval" 1062 "UPDATE billing_attempt SET status = 'APPROVED', tid = 'T0000000000000000013' WHERE attempt_no = 3"
expect_ok "UNKNOWN settled as FAILED" "UPDATE billing_attempt SET status = 'FAILED', resolved_by = 'RECONCILER' WHERE attempt_no = 3"
expect_ok "next cycle attempt on the SID" "$A VALUES (1, '2026-05-01', 1, 'PENDING', 'SCHEDULE', 'S1-C20260501-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000001', 1, 'x', 2, 11000, 100, 1100, 9900, 19800, NULL, $NOW, $NOW, $NOW)"

expect_err "price snapshot inconsistent" 4025 "$A VALUES (1, '2026-06-01', 1, 'DECLINED', 'SCHEDULE', 'S1-C20260601-A1', 'U1', 'TCSUBSCRIP', 'S0000000000000000009', 1, 'x', 2, 11000, 100, 1000, 10000, 20000, NULL, $NOW, $NOW, $NOW)"
expect_err "admin verdict CHARGED without TID" 4025 "UPDATE billing_attempt SET admin_verdict = 'CHARGED' WHERE attempt_no = 1 AND cycle_date = '2026-05-01'"
expect_ok "admin verdict CHARGED with TID" "UPDATE billing_attempt SET admin_verdict = 'CHARGED', admin_tid = 'T0000000000000000077', admin_verdict_by = 'ops', admin_verdict_at = UTC_TIMESTAMP() WHERE attempt_no = 1 AND cycle_date = '2026-05-01'"

# --- renewal order and cycles
O="INSERT INTO orders (user_id, status, is_subscription, is_renewal, subscription_id, cycle_date, receiver_real_name, receiver_phone, receiver_city, receiver_detail_address, total_items, total_quantity, total_price, total_discount_price, expect_price, created_at, updated_at, paid_at)"
expect_ok "renewal order" "$O VALUES (1, 'COMPLETE', 1, 1, 1, '2026-04-01', '홍길동', '010-1111-1111', '서울', '101 번지', 1, 2, 22000, 2200, 19800, $NOW, $NOW, $NOW)"
expect_err "second renewal order for the same cycle" 1062 "$O VALUES (1, 'COMPLETE', 1, 1, 1, '2026-04-01', '홍길동', '010-1111-1111', '서울', '101 번지', 1, 2, 22000, 2200, 19800, $NOW, $NOW, $NOW)"
expect_err "renewal flag without subscription" 4025 "$O VALUES (1, 'COMPLETE', 1, 1, NULL, NULL, 'a', 'b', 'c', 'd', 1, 2, 22000, 2200, 19800, $NOW, $NOW, $NOW)"
C="INSERT INTO subscription_cycles (subscription_id, cycle_date, status, attempts, amount, order_id, paid_at, created_at, updated_at)"
expect_ok "first cycle PAID" "$C VALUES (1, '2026-01-01', 'PAID', 1, 29800, 1, $NOW, $NOW, $NOW)"
expect_ok "cycle PAID by renewal" "$C VALUES (1, '2026-04-01', 'PAID', 2, 19800, 2, $NOW, $NOW, $NOW)"
expect_err "cycle twice" 1062 "$C VALUES (1, '2026-04-01', 'SKIPPED', 0, NULL, NULL, NULL, $NOW, $NOW)"
expect_err "PAID without amount" 4025 "$C VALUES (1, '2026-05-01', 'PAID', 1, NULL, 2, $NOW, $NOW, $NOW)"
expect_err "SKIPPED with an order" 4025 "$C VALUES (1, '2026-05-01', 'SKIPPED', 0, NULL, 2, NULL, $NOW, $NOW)"

# --- reviews
V="INSERT INTO reviews (user_id, order_id, item_id, content, star, display_name, created_at, updated_at)"
expect_ok "review" "$V VALUES (1, 1, 1, '좋아요', 5, 'Kim', $NOW, $NOW)"
expect_err "second ACTIVE review same user/order/item" 1062 "$V VALUES (1, 1, 1, '또', 4, 'Kim', $NOW, $NOW)"
expect_ok "same item, other order" "$V VALUES (1, 2, 1, '재구매', 4, 'Kim', $NOW, $NOW)"
expect_err "star 6" 4025 "$V VALUES (1, 1, 2, 'x', 6, 'Kim', $NOW, $NOW)"
expect_err "star 0" 4025 "$V VALUES (1, 1, 2, 'x', 0, 'Kim', $NOW, $NOW)"
expect_err "INACTIVE without deleted_at" 4025 "UPDATE reviews SET status = 'INACTIVE' WHERE review_id = 1"
expect_ok "soft delete" "UPDATE reviews SET status = 'INACTIVE', deleted_at = UTC_TIMESTAMP() WHERE review_id = 1"
expect_ok "new review after delete" "$V VALUES (1, 1, 1, '다시', 3, 'Kim', $NOW, $NOW)"
expect_ok "delete it too: two INACTIVE reviews" "UPDATE reviews SET status = 'INACTIVE', deleted_at = UTC_TIMESTAMP() WHERE content = '다시'"
expect_ok "and a third ACTIVE one" "$V VALUES (1, 1, 1, '세번째', 4, 'Kim', $NOW, $NOW)"
expect_val "two INACTIVE + one ACTIVE for (1,1,1)" "2	1" "SELECT SUM(status='INACTIVE'), SUM(status='ACTIVE') FROM reviews WHERE user_id=1 AND order_id=1 AND item_id=1"
expect_err "reactivating an old review while one is ACTIVE" 1062 "UPDATE reviews SET status = 'ACTIVE', deleted_at = NULL WHERE review_id = 1"

# --- outbox
expect_ok "event" "INSERT INTO api_event (kind, payload, next_attempt_at, dedup_key, created_at, updated_at) VALUES ('SID_INACTIVATE', '{\"sid\":\"S1\"}', $NOW, 'sid-inactivate:S1', $NOW, $NOW)"
expect_err "duplicate dedup_key" 1062 "INSERT INTO api_event (kind, payload, next_attempt_at, dedup_key, created_at, updated_at) VALUES ('SID_INACTIVATE', '{}', $NOW, 'sid-inactivate:S1', $NOW, $NOW)"
expect_ok "events without dedup_key" "INSERT INTO api_event (kind, payload, next_attempt_at, created_at, updated_at) VALUES ('NOTIFY', '{}', $NOW, $NOW, $NOW), ('NOTIFY', '{}', $NOW, $NOW, $NOW)"
expect_err "payload must be JSON" 4025 "INSERT INTO api_event (kind, payload, next_attempt_at, created_at, updated_at) VALUES ('NOTIFY', 'nope', $NOW, $NOW, $NOW)"

# --- items
expect_err "discount over 100 %" 4025 "UPDATE items SET discount_p10 = 1001 WHERE item_id = 1"
expect_err "writing a generated column" 1906 "UPDATE items SET real_price = 1 WHERE item_id = 1"
expect_val "price change recomputes derived columns" "12345	125	1543	10802" "UPDATE items SET origin_price = 12345, discount_p10 = ROUND(LEAST(GREATEST(12.5, 0), 100) * 10) WHERE item_id = 66; SELECT origin_price, discount_p10, discount_price, real_price FROM items WHERE item_id = 66"
expect_err "star average above 5" 4025 "UPDATE items SET star_avg_x100 = 501 WHERE item_id = 1"


"${M[@]}" -e "DROP DATABASE $DB"
echo "schema_test: passed $pass, failed $fail"
[ "$fail" -eq 0 ]
