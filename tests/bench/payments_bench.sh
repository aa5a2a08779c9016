#!/usr/bin/env bash
# payments_bench.sh: benchmark of the one-time payment chain (issue 4), in one invocation:
#   1. baseline: the fake Kakao Pay gateway's own round trip, wrk POST /online/v1/payment/order
#      with the secret key at 0 ms latency (req/s, p50, p99);
#   2. purchases through the API with the fake at 0 ms, then at 50 ms latency: each purchase is
#      POST /api/orders (one line), POST /api/payments/{orderId} (ready), POST /__control/click on
#      the fake (approve, gives the approval URL with pg_token) and GET that URL with
#      Accept: application/json (approve). tests/bench/pay_load.c (compiled here with cc against
#      libcurl and cJSON) runs one thread per user for BENCH_SECONDS and prints purchases/s,
#      p50/p99 of the whole chain and errors; this script adds the ratio to the baseline.
# At the end, the API daemon's peak RSS. Its own MariaDB/Redis/fake under var/bench-pay.
#
#   BUILD=build bash tests/bench/payments_bench.sh
#   BENCH_SECONDS=10 BENCH_PAY_THREADS=16 BENCH_PAY_LATENCY_MS=50 BENCH_ITEMS=1000
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin
var=$root/var/bench-pay
nitems=${BENCH_ITEMS:-1000}
pay_threads=${BENCH_PAY_THREADS:-16}
pay_latency=${BENCH_PAY_LATENCY_MS:-50}
port=${BENCH_API_PORT:-18650}
fake_port=${BENCH_FAKEPAY_PORT:-18651}
db_port=${BENCH_DB_PORT:-3580}
redis_port=${BENCH_REDIS_PORT:-6580}
fake_url=http://127.0.0.1:$fake_port
fake_key=bench-pay-fake-secret-key
export PV_KAKAOPAY_SECRET_KEY=$fake_key PV_KAKAOPAY_BASE_URL=$fake_url
. "$here/lib.sh"
export PV_PUBLIC_BASE_URL=$api # the approval URL the fake hands back points at this API
fake_pid=

[ -x "$bin/fake-kakaopay" ] && [ -x "$bin/pillivery-api" ] ||
	{ echo "payments_bench: $bin/pillivery-api or fake-kakaopay not built (make all)"; exit 1; }
command -v pkg-config > /dev/null && pkg-config --exists libcurl libcjson ||
	{ echo "payments_bench: pkg-config, libcurl or libcjson missing (make deps)"; exit 1; }

bench_services
pay_cleanup() {
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2> /dev/null
		wait "$fake_pid" 2> /dev/null
	fi
	bench_cleanup
}
trap pay_cleanup EXIT

cc -O2 -o "$var/pay_load" "$here/pay_load.c" $(pkg-config --cflags --libs libcurl libcjson) -lpthread ||
	{ echo "payments_bench: pay_load.c does not compile"; exit 1; }

PV_FAKEPAY_LISTEN=127.0.0.1:$fake_port PV_FAKEPAY_SECRET_KEY=$fake_key PV_FAKEPAY_LOG=0 \
	PV_FAKEPAY_SEED=1 PV_FAKEPAY_LATENCY_MS=0 "$bin/fake-kakaopay" > "$var/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 50); do
	curl -fs "$fake_url/__control/health" > /dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "$fake_url/__control/health" > /dev/null || { echo "fake-kakaopay did not start"; cat "$var/fake.log"; exit 1; }

load_items() {
	bench_sql << SQL
INSERT INTO items (item_id, thumbnail, description_image, product_name, enterprise, statement_number,
  registered_date, distribution_period, sungsang, serving_use, preserve_period, intake, main_function,
  base_standard, origin_price, discount_p10, sales, review_size, star_avg_x100, created_at, updated_at)
SELECT seq, CONCAT('https://cdn.pillivery.example/items/', seq, '/thumb.jpg'),
  CONCAT('https://cdn.pillivery.example/items/', seq, '/desc.jpg'), CONCAT('결제 벤치 상품 ', seq),
  '종근당건강', CONCAT('2020', LPAD(seq, 10, '0')), '20230101', '제조일로부터 24개월',
  '고유의 향미가 있는 정제', '1일 1회, 1회 1정을 물과 함께 섭취하십시오.', '직사광선을 피해 서늘한 곳에 보관',
  '질환이 있거나 의약품 복용 시 전문가와 상담하십시오.', '[기능성] 건강 유지에 도움을 줄 수 있음',
  '기준규격 적합', 5000 + (seq * 7919) % 85000, (seq * 37) % 301, 0, 0, 0, UTC_TIMESTAMP(), UTC_TIMESTAMP()
FROM seq_1_to_$nitems;
INSERT INTO item_categories (item_id, category_id) SELECT seq, 1 + seq % 9 FROM seq_1_to_$nitems;
SQL
}
bench_api_start load_items

# one logged-in user per load thread (one token per line)
: > "$var/users.txt"
for i in $(seq 1 "$pay_threads"); do
	body=$(printf '{"email":"paybench%d@example.com","password":"Bench1234!","displayName":"paybench%d","city":"서울","detailAddress":"1","realName":"벤치"}' "$i" "$i")
	curl -s -o /dev/null -X POST "$api/api/users" -H 'Content-Type: application/json' -d "$body"
	token=$(curl -si -X POST "$api/api/users/auth" -H 'Content-Type: application/json' \
		-d "{\"username\":\"paybench$i@example.com\",\"password\":\"Bench1234!\"}" | tr -d '\r' |
		sed -n 's/^Authorization: Bearer //Ip')
	[ -n "$token" ] || { echo "setup of user $i failed"; tail "$var/api.log"; exit 1; }
	echo "$token" >> "$var/users.txt"
done

# 1. baseline: order lookup of one ready payment, straight at the fake with the secret key
tid=$(curl -fs -X POST "$fake_url/online/v1/payment/ready" -H "Authorization: SECRET_KEY $fake_key" \
	-H 'Content-Type: application/json' \
	-d '{"cid":"TC0ONETIME","partner_order_id":"bench-1","partner_user_id":"bench","item_name":"bench","quantity":1,"total_amount":9900,"tax_free_amount":0,"approval_url":"http://127.0.0.1/a","cancel_url":"http://127.0.0.1/c","fail_url":"http://127.0.0.1/f"}' |
	sed -n 's/.*"tid":"\([^"]*\)".*/\1/p')
[ -n "$tid" ] || { echo "payments_bench: ready on the fake failed"; exit 1; }
cat > "$var/order.lua" << LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "SECRET_KEY $fake_key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"cid":"TC0ONETIME","tid":"$tid"}'
LUA

set_latency() {
	curl -fs -o /dev/null -X PUT "$fake_url/__control/config" -H 'Content-Type: application/json' \
		-d "{\"latency_ms\":$1}" || { echo "payments_bench: PUT /__control/config failed"; exit 1; }
}

# 2. purchases through the API (pay_load prints one line; the ratio is purchases/s over the
# baseline's req/s)
purchases() {
	local name=$1 out pps p50 p99 errs ratio
	out=$("$var/pay_load" -a "$api" -f "$fake_url" -u "$var/users.txt" -t "$pay_threads" \
		-d "$secs" -i "$nitems" 2> "$var/pay_load.err") || { echo "pay_load failed"; cat "$var/pay_load.err"; exit 1; }
	pps=$(printf '%s\n' "$out" | sed -n 's/.*  \([0-9.]*\) purchases\/s.*/\1/p')
	p50=$(printf '%s\n' "$out" | sed -n 's/.* p50 \([0-9.]*ms\).*/\1/p')
	p99=$(printf '%s\n' "$out" | sed -n 's/.* p99 \([0-9.]*ms\).*/\1/p')
	errs=$(printf '%s\n' "$out" | sed -n 's/.* errors \(.*\)$/\1/p')
	ratio=$(awk -v a="$pps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "n/a" }')
	printf '%-34s %10s purch/s p50 %8s  p99 %8s  ratio %6s  errors %s\n' "$name" "$pps" "$p50" \
		"$p99" "$ratio" "$errs"
	[ -s "$var/pay_load.err" ] && sed 's/^/    /' "$var/pay_load.err"
	return 0
}

echo "payments benchmark: ${secs}s per scenario; baseline wrk $conns connections, $threads threads;" \
	"purchases $pay_threads threads (one user each), $nitems items"
set_latency 0
bench_run "fake POST /online/v1/payment/order" -s "$var/order.lua" "$fake_url/online/v1/payment/order"
purchases "purchase chain, fake 0 ms"
set_latency "$pay_latency"
purchases "purchase chain, fake $pay_latency ms"
set_latency 0
bench_rss
