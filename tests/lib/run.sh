#!/usr/bin/env bash
# run.sh: the demo behind `make run`. Starts a private MariaDB and Redis under ./var/run
# (data kept between runs; `make reset` wipes it), applies the migrations, loads the demo
# catalogue once, creates a demo customer and a demo admin, starts the fake Kakao Pay gateway
# (tests/fakes/kakaopay, KAKAOPAY.md §4), pillivery-api and pillivery-billing, prints where to
# look, and stops everything cleanly on Ctrl-C.
#
# Ports (override when busy): PV_RUN_DB_PORT 3307, PV_RUN_REDIS_PORT 6380, PV_API_PORT 8080,
# PV_RUN_FAKEPAY_PORT 18090, PV_BILLING_PORT 8081. PV_KAKAOPAY_BASE_URL and PV_KAKAOPAY_SECRET_KEY, when already set,
# are kept (KAKAOPAY.md §0); otherwise they point the API at the fake.
# Every PV_* variable already set in the environment is passed through unchanged.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin
var=$root/var/run
svc=$here/services.sh

db_port=${PV_RUN_DB_PORT:-3307}
redis_port=${PV_RUN_REDIS_PORT:-6380}
mkdir -p "$var"

api_pid=
billing_pid=
fake_pid=
oauth_pid=
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "pillivery: stopping"
	if [ -n "$billing_pid" ] && kill -0 "$billing_pid" 2> /dev/null; then
		kill -TERM "$billing_pid" 2> /dev/null
		wait "$billing_pid" 2> /dev/null
	fi
	rm -f "$var/billing.pid"
	if [ -n "$api_pid" ] && kill -0 "$api_pid" 2> /dev/null; then
		kill -TERM "$api_pid" 2> /dev/null
		wait "$api_pid" 2> /dev/null
	fi
	rm -f "$var/api.pid"
	if [ -n "$fake_pid" ] && kill -0 "$fake_pid" 2> /dev/null; then
		kill -TERM "$fake_pid" 2> /dev/null
		wait "$fake_pid" 2> /dev/null
	fi
	rm -f "$var/fakepay.pid"
	if [ -n "$oauth_pid" ] && kill -0 "$oauth_pid" 2> /dev/null; then
		kill -TERM "$oauth_pid" 2> /dev/null
		wait "$oauth_pid" 2> /dev/null
	fi
	bash "$svc" stop "$var"
	echo "pillivery: stopped (data kept in var/run; make reset wipes it)"
	exit 0
}
trap stop_all INT TERM EXIT

bash "$svc" start-redis "$var" "$redis_port" yes || exit 1
bash "$svc" start-db "$var" "$db_port" || exit 1

if [ ! -s "$var/jwt.secret" ]; then
	head -c 48 /dev/urandom | base64 | tr -d '\n=+/' > "$var/jwt.secret"
fi
export PV_DB_HOST=${PV_DB_HOST:-127.0.0.1} PV_DB_PORT=${PV_DB_PORT:-$db_port}
export PV_DB_USER=${PV_DB_USER:-pillivery} PV_DB_PASSWORD=${PV_DB_PASSWORD:-pillivery}
export PV_DB_NAME=${PV_DB_NAME:-pillivery}
export PV_REDIS_HOST=${PV_REDIS_HOST:-127.0.0.1} PV_REDIS_PORT=${PV_REDIS_PORT:-$redis_port}
export PV_JWT_SECRET=${PV_JWT_SECRET:-$(cat "$var/jwt.secret")}
export PV_API_PORT=${PV_API_PORT:-8080}
export PV_PROFILE=${PV_PROFILE:-demo}
api=http://localhost:$PV_API_PORT

# Kakao Pay: the fake gateway's URL and key, unless the environment sets them (KAKAOPAY.md §0).
fake_port=${PV_RUN_FAKEPAY_PORT:-18090}
fake_url=http://127.0.0.1:$fake_port
fake_key_file=$var/fakepay.key
if [ ! -s "$fake_key_file" ]; then
	head -c 24 /dev/urandom | base64 | tr -d '\n=+/' > "$fake_key_file"
fi
# the fake accepts the key the API will send (the environment's, when it sets one)
fake_key=${PV_KAKAOPAY_SECRET_KEY:-$(cat "$fake_key_file")}
export PV_KAKAOPAY_BASE_URL=${PV_KAKAOPAY_BASE_URL:-$fake_url}
export PV_KAKAOPAY_SECRET_KEY=$fake_key

"$bin/pillivery-api" --migrate >> "$var/api.log" 2>&1 || {
	echo "pillivery: migration failed, see var/run/api.log" >&2
	tail -n 5 "$var/api.log" >&2
	exit 1
}
sql() { mariadb --no-defaults -S "$var/mariadb.sock" -uroot "$PV_DB_NAME" "$@"; }
if [ "$(sql -N -e 'SELECT COUNT(*) FROM items')" = 0 ]; then
	echo "pillivery: loading the demo catalogue"
	sql < "$root/core/sql/seed/demo_catalogue.sql" || exit 1
fi

# The fake Kakao Pay gateway on loopback; a browser reaches its payment page at the public URL.
PV_FAKEPAY_LISTEN=127.0.0.1:$fake_port PV_FAKEPAY_PUBLIC_URL=${PV_FAKEPAY_PUBLIC_URL:-$fake_url} \
	PV_FAKEPAY_SECRET_KEY=$fake_key "$bin/fake-kakaopay" >> "$var/fakepay.log" 2>&1 &
fake_pid=$!
echo "$fake_pid" > "$var/fakepay.pid"
for _ in $(seq 1 50); do
	curl -fsS "$fake_url/__control/health" > /dev/null 2>&1 && break
	kill -0 "$fake_pid" 2> /dev/null || break
	sleep 0.1
done
if ! curl -fsS "$fake_url/__control/health" > /dev/null 2>&1; then
	echo "pillivery: fake-kakaopay did not start; last lines of var/run/fakepay.log:" >&2
	tail -n 20 "$var/fakepay.log" >&2
	exit 1
fi

# The fake OAuth2 provider (kakao and google) for social login, unless the environment
# configures a real provider.
oauth_port=${PV_RUN_FAKEOAUTH_PORT:-18540}
oauth_url=http://127.0.0.1:$oauth_port
oauth_note="off (PV_OAUTH_* set by the environment)"
if [ -z "${PV_OAUTH_KAKAO_CLIENT_ID:-}${PV_OAUTH_GOOGLE_CLIENT_ID:-}" ]; then
	PV_FAKEOAUTH_LISTEN=127.0.0.1:$oauth_port "$bin/fake-oauth" >> "$var/fakeoauth.log" 2>&1 &
	oauth_pid=$!
	for _ in $(seq 1 50); do
		curl -fsS "$oauth_url/__control/health" > /dev/null 2>&1 && break
		kill -0 "$oauth_pid" 2> /dev/null || break
		sleep 0.1
	done
	if ! curl -fsS "$oauth_url/__control/health" > /dev/null 2>&1; then
		echo "pillivery: fake-oauth did not start; last lines of var/run/fakeoauth.log:" >&2
		tail -n 20 "$var/fakeoauth.log" >&2
		exit 1
	fi
	for p in kakao google; do
		P=$(echo "$p" | tr a-z A-Z)
		export "PV_OAUTH_${P}_CLIENT_ID=fake-$p-client" "PV_OAUTH_${P}_CLIENT_SECRET=fake-$p-secret"
		export "PV_OAUTH_${P}_AUTHORIZE_URL=$oauth_url/$p/authorize"
		export "PV_OAUTH_${P}_TOKEN_URL=$oauth_url/$p/token"
		export "PV_OAUTH_${P}_PROFILE_URL=$oauth_url/$p/userinfo"
	done
	oauth_note="$oauth_url (fake kakao and google; logs: var/run/fakeoauth.log)"
fi

# wait_up NAME URL PID LOG: waits up to 10 s for URL/health, or exits with the log's tail.
wait_up() {
	for _ in $(seq 1 100); do
		curl -fsS "$2/health" > /dev/null 2>&1 && return 0
		kill -0 "$3" 2> /dev/null || break
		sleep 0.1
	done
	curl -fsS "$2/health" > /dev/null 2>&1 && return 0
	echo "pillivery: $1 did not start; last lines of var/run/$4:" >&2
	tail -n 20 "$var/$4" >&2
	exit 1
}

"$bin/pillivery-api" >> "$var/api.log" 2>&1 &
api_pid=$!
echo "$api_pid" > "$var/api.pid"
wait_up pillivery-api "$api" "$api_pid" api.log

# The billing daemon: charges due subscriptions every few seconds (DESIGN.md §5).
export PV_BILLING_PORT=${PV_BILLING_PORT:-8081}
billing=http://127.0.0.1:$PV_BILLING_PORT
"$bin/pillivery-billing" >> "$var/billing.log" 2>&1 &
billing_pid=$!
echo "$billing_pid" > "$var/billing.pid"
wait_up pillivery-billing "$billing" "$billing_pid" billing.log

# Demo accounts (created once): a customer and an admin.
demo_user() {
	curl -s -o /dev/null -X POST "$api/api/users" -H 'Content-Type: application/json' -d "$1"
}
demo_user '{"email":"demo@pillivery.example","password":"Demo1234!","displayName":"데모고객","city":"서울","detailAddress":"강남구 테헤란로 1","realName":"김데모","phone":"010-0000-0001"}'
demo_user '{"email":"admin@pillivery.example","password":"Admin1234!","displayName":"관리자","city":"서울","detailAddress":"중구 세종대로 110","realName":"박관리","phone":"010-0000-0002"}'
sql -e "UPDATE users SET role = 'ADMIN' WHERE email_key = 'admin@pillivery.example'"
cart=$(sql -N -e "SELECT c.cart_id FROM carts c JOIN users u ON u.user_id = c.user_id
	WHERE u.email_key = 'demo@pillivery.example' AND c.kind = 'NORMAL'")

cat << TXT

  Pillivery is running.

  API            $api            (logs: var/run/api.log, JSON lines)
  API docs       $api/docs       (OpenAPI: $api/openapi.json)
  Health         $api/health  $api/ready  $api/metrics
  Billing        $billing/health  $billing/ready  $billing/metrics   (pillivery-billing, logs: var/run/billing.log;
                 it charges every due subscription every 5 s; --dry-run lists what is due:
                 PV_DB_PORT=$db_port PV_KAKAOPAY_SECRET_KEY=x $bin/pillivery-billing --dry-run)
  MariaDB        127.0.0.1:$db_port  database $PV_DB_NAME  (mariadb -S var/run/mariadb.sock -uroot $PV_DB_NAME)
  Redis          127.0.0.1:$redis_port
  Fake Kakao Pay $fake_url  (payment pages $fake_url/pg/<tid>/info; control $fake_url/__control/health,
                 $fake_url/__control/ledger; logs: var/run/fakepay.log)   API uses $PV_KAKAOPAY_BASE_URL

  OAuth2         $oauth_note
                 try: curl -si -H 'Accept: application/json' -L $api/oauth2/authorization/kakao

  Demo accounts  demo@pillivery.example / Demo1234!     admin@pillivery.example / Admin1234!

  Try it (a walk through the shop with curl):
    # log in: the tokens come back in the Authorization, Refresh and userId headers
    curl -si -X POST $api/api/users/auth -H 'Content-Type: application/json' \\
         -d '{"username":"demo@pillivery.example","password":"Demo1234!"}' | tr -d '\r' > login.txt
    TOKEN=\$(sed -n 's/^Authorization: Bearer //p' login.txt)
    USER_ID=\$(sed -n 's/^userId: //p' login.txt)
    curl -s $api/api/users/\$USER_ID -H "Authorization: Bearer \$TOKEN"
    # browse: main page, search (루테인 = lutein), a category, one item
    curl -s $api/api/items/main
    curl -s "$api/api/items/search?keyword=%EB%A3%A8%ED%85%8C%EC%9D%B8&sort=PRICE_L"
    curl -s "$api/api/items/categories?categoryName=EYE"
    curl -s $api/api/items/1
    # the cart ids are in the sign-up answer; the demo customer's normal cart is $cart
    curl -s -X POST "$api/api/carts/normal/$cart?itemId=1&quantity=2" -H "Authorization: Bearer \$TOKEN"
    curl -s $api/api/carts/normal/$cart -H "Authorization: Bearer \$TOKEN"
    # place an order: item 1 once, item 2 as a subscription every 30 days
    curl -s -X POST $api/api/orders -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
         -d '{"city":"서울","detailAddress":"강남구 테헤란로 1","realName":"김데모","phoneNumber":"010-0000-0001",
              "orderPostDtoList":[{"itemId":1,"quantity":1},{"itemId":2,"quantity":1,"subscription":true,"period":30}]}'
    # pay it through the fake Kakao Pay (open next_redirect_pc_url in a browser and press approve)
    curl -s -X POST $api/api/payments/<orderId> -H "Authorization: Bearer \$TOKEN"
    # the subscription's next charge, and an admin's "charge now" of it (a renewal order appears)
    curl -s $api/api/subscriptions/<subscriptionOrderId> -H "Authorization: Bearer \$TOKEN"
    curl -s -X POST $api/api/payments/approve/subscriptions/<subscriptionOrderId> -H "Authorization: Bearer <admin token>"
    # or let pillivery-billing charge it within 5 s: move its schedule back so a cycle is overdue
    mariadb -S var/run/mariadb.sock -uroot $PV_DB_NAME -e "UPDATE subscriptions SET
      first_payment_date = first_payment_date - INTERVAL 31 DAY, last_payment_date = last_payment_date - INTERVAL 31 DAY,
      last_settled_cycle_date = last_settled_cycle_date - INTERVAL 31 DAY,
      next_payment_date = next_payment_date - INTERVAL 31 DAY WHERE subscription_id = <id>"

  Ctrl-C stops everything (data is kept; make reset wipes it).
TXT
wait -n "$api_pid" "$billing_pid"
echo "pillivery: a daemon exited; see var/run/api.log and var/run/billing.log"
