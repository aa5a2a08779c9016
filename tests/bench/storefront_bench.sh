#!/usr/bin/env bash
# storefront_bench.sh: wrk benchmark of the storefront against a 10,000-item catalogue, in one
# invocation: GET /health (the static baseline), then GET /api/items/{id}, keyword search,
# category listing, main page, cart add+get and order create. Each line prints requests/s,
# p50, p99, non-2xx answers and the ratio to the baseline; at the end the daemon's peak RSS.
# Uses its own MariaDB/Redis under var/bench-store.
#
#   BUILD=build bash tests/bench/storefront_bench.sh
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=16 BENCH_THREADS=2 BENCH_ITEMS=10000 BENCH_USERS=32
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin
var=$root/var/bench-store
svc=$root/tests/lib/services.sh
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-2}
nitems=${BENCH_ITEMS:-10000}
nusers=${BENCH_USERS:-32}
port=${BENCH_API_PORT:-18190}
db_port=${BENCH_DB_PORT:-3319}
redis_port=${BENCH_REDIS_PORT:-6392}
api=http://127.0.0.1:$port

command -v wrk > /dev/null || { echo "wrk is not installed (make deps)"; exit 1; }
bash "$svc" stop "$var" 2> /dev/null
rm -rf "$var"
mkdir -p "$var"
api_pid=
cleanup() {
	[ -n "$api_pid" ] && kill "$api_pid" 2> /dev/null && wait "$api_pid" 2> /dev/null
	bash "$svc" stop "$var"
}
trap cleanup EXIT
PV_DB_FLUSH=2 bash "$svc" start-db "$var" "$db_port" > /dev/null || exit 1
bash "$svc" start-redis "$var" "$redis_port" > /dev/null || exit 1

export PV_DB_PORT=$db_port PV_REDIS_PORT=$redis_port PV_API_PORT=$port PV_API_BIND=127.0.0.1
export PV_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 PV_LOG_LEVEL=warn
"$bin/pillivery-api" --migrate > "$var/api.log" 2>&1 || { cat "$var/api.log"; exit 1; }
sql() { mariadb --no-defaults -S "$var/mariadb.sock" -uroot pillivery "$@"; }

# 10,000 items (the Sequence engine's seq_1_to_N), each in one or two categories, with a
# spread of prices, discounts, sales and review counts so every sort has work to do.
sql << SQL || exit 1
INSERT INTO items (item_id, thumbnail, description_image, product_name, enterprise, statement_number,
  registered_date, distribution_period, sungsang, serving_use, preserve_period, intake, main_function,
  base_standard, origin_price, discount_p10, sales, review_size, star_avg_x100, created_at, updated_at)
SELECT seq, CONCAT('https://cdn.pillivery.example/items/', seq, '/thumb.jpg'),
  CONCAT('https://cdn.pillivery.example/items/', seq, '/desc.jpg'),
  CONCAT(ELT(1 + seq % 8, '루테인', '오메가3', '유산균', '비타민C', '밀크씨슬', '콜라겐', '홍삼', '칼슘'),
         ' ', ELT(1 + (seq DIV 8) % 5, '골드', '플러스', '프리미엄', '데일리', '맥스'), ' ', seq),
  CONCAT(ELT(1 + seq % 6, '종근당건강', '뉴트리원', '(주)씨티씨바이오', '고려은단', '한미양행', '대웅제약'), ' ', seq % 50),
  CONCAT('2020', LPAD(seq, 10, '0')), '20230101', '제조일로부터 24개월', '고유의 향미가 있는 정제',
  '1일 1회, 1회 1정을 물과 함께 섭취하십시오.', '직사광선을 피해 서늘한 곳에 보관',
  '질환이 있거나 의약품 복용 시 전문가와 상담하십시오.', '[기능성] 건강 유지에 도움을 줄 수 있음',
  '기준규격 적합', 5000 + (seq * 7919) % 85000, (seq * 37) % 301, (seq * 104729) % 5000,
  seq % 40, IF(seq % 40 = 0, 0, 300 + seq % 200), UTC_TIMESTAMP(), UTC_TIMESTAMP()
FROM seq_1_to_$nitems;
INSERT INTO item_categories (item_id, category_id) SELECT seq, 1 + seq % 9 FROM seq_1_to_$nitems;
INSERT IGNORE INTO item_categories (item_id, category_id) SELECT seq, 1 + (seq DIV 9) % 9 FROM seq_1_to_$nitems WHERE seq % 3 = 0;
SQL

"$bin/pillivery-api" >> "$var/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fs "$api/health" > /dev/null 2>&1 && break; sleep 0.1; done

# users with their tokens and carts, for the cart and order scenarios (one per line)
: > "$var/users.txt"
for i in $(seq 1 "$nusers"); do
	body=$(printf '{"email":"bench%d@example.com","password":"Bench1234!","displayName":"bench%d","city":"서울","detailAddress":"1","realName":"벤치"}' "$i" "$i")
	cart=$(curl -s -X POST "$api/api/users" -H 'Content-Type: application/json' -d "$body" |
		sed -n 's/.*"normalCartId":\([0-9]*\).*/\1/p')
	token=$(curl -si -X POST "$api/api/users/auth" -H 'Content-Type: application/json' \
		-d "{\"username\":\"bench$i@example.com\",\"password\":\"Bench1234!\"}" | tr -d '\r' |
		sed -n 's/^Authorization: Bearer //Ip')
	[ -n "$token" ] && [ -n "$cart" ] || { echo "setup of user $i failed"; tail "$var/api.log"; exit 1; }
	echo "$token $cart" >> "$var/users.txt"
done
export BENCH_USERS_FILE=$var/users.txt BENCH_ITEMS_N=$nitems BENCH_DIR=$here

base_rps=
run() { # name, wrk args...
	local name=$1 out rps p50 p99 ratio non2xx
	shift
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" 2>&1)
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
	[ -z "$base_rps" ] && base_rps=$rps
	ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
	printf '%-34s %10s req/s  p50 %8s  p99 %8s  ratio %6s  non-2xx %s\n' "$name" "$rps" "$p50" \
		"$p99" "$ratio" "${non2xx:-0}"
}

echo "storefront benchmark: $nitems items, ${secs}s per scenario, $conns connections, $threads wrk threads"
run "GET /health (baseline)" "$api/health"
run "GET /api/items/{id}" -s "$here/item_detail.lua" "$api"
run "GET /api/items/search?keyword=" -s "$here/search.lua" "$api"
run "GET /api/items/categories" -s "$here/category.lua" "$api"
run "GET /api/items/main" "$api/api/items/main"
run "cart add+get (POST, GET)" -s "$here/cart.lua" "$api"
run "POST /api/orders" -s "$here/order.lua" "$api"
printf 'peak RSS of pillivery-api: %s\n' "$(awk '/VmHWM/ {print $2 " " $3}' /proc/$api_pid/status)"
