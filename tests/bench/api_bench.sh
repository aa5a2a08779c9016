#!/usr/bin/env bash
# api_bench.sh: wrk benchmark of pillivery-api, in one invocation:
#   GET /health (the static baseline), POST /api/users (sign-up), POST /api/users/auth
#   (login), GET /api/users/{id} (authenticated read)
# Each prints requests/s, p50, p99 and the ratio to the baseline's requests/s; at the end,
# the daemon's peak RSS (VmHWM). Uses its own MariaDB/Redis under var/bench.
#
#   make bench            (or: BUILD=build bash tests/bench/api_bench.sh)
#   BENCH_SECONDS=10 BENCH_CONNECTIONS=16 BENCH_THREADS=2   to change the load
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin
var=$root/var/bench
port=${BENCH_API_PORT:-18180}
db_port=${BENCH_DB_PORT:-3318}
redis_port=${BENCH_REDIS_PORT:-6391}
. "$here/lib.sh"

bench_services
export PV_LOGIN_MAX_FAILURES=1000
bench_api_start

# a user to log in as and to read
curl -s -o /dev/null -X POST "$api/api/users" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"Bench1234!","displayName":"bench","city":"서울","detailAddress":"1","realName":"벤치"}'
hdrs=$(curl -si -X POST "$api/api/users/auth" -H 'Content-Type: application/json' \
	-d '{"username":"bench@example.com","password":"Bench1234!"}' | tr -d '\r')
token=$(printf '%s\n' "$hdrs" | sed -n 's/^Authorization: Bearer //Ip')
uid=$(printf '%s\n' "$hdrs" | sed -n 's/^userId: //Ip')
[ -n "$token" ] || { echo "login failed"; tail "$var/api.log"; exit 1; }

echo "pillivery-api benchmark: ${secs}s per scenario, $conns connections, $threads wrk threads"
bench_run "GET /health (baseline)" "$api/health"
bench_run "POST /api/users (signup)" -s "$here/signup.lua" "$api/api/users"
bench_run "POST /api/users/auth (login)" -s "$here/login.lua" "$api/api/users/auth"
bench_run "GET /api/users/{id}" -H "Authorization: Bearer $token" "$api/api/users/$uid"
bench_rss
