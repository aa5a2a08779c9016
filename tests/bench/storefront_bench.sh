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
nitems=${BENCH_ITEMS:-10000}
nusers=${BENCH_USERS:-32}
port=${BENCH_API_PORT:-18190}
db_port=${BENCH_DB_PORT:-3319}
redis_port=${BENCH_REDIS_PORT:-6392}
. "$here/lib.sh"

bench_services
# 10,000 items (the Sequence engine's seq_1_to_N), each in one or two categories, with a
# spread of prices, discounts, sales and review counts so every sort has work to do.
load_catalogue() {
	bench_sql << SQL

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
}
bench_api_start load_catalogue

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

echo "storefront benchmark: $nitems items, ${secs}s per scenario, $conns connections, $threads wrk threads"
bench_run "GET /health (baseline)" "$api/health"
bench_run "GET /api/items/{id}" -s "$here/item_detail.lua" "$api"
bench_run "GET /api/items/search?keyword=" -s "$here/search.lua" "$api"
bench_run "GET /api/items/categories" -s "$here/category.lua" "$api"
bench_run "GET /api/items/main" "$api/api/items/main"
bench_run "cart add+get (POST, GET)" -s "$here/cart.lua" "$api"
bench_run "POST /api/orders" -s "$here/order.lua" "$api"
bench_rss
