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
svc=$root/tests/lib/services.sh
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-2}
port=${BENCH_API_PORT:-18180}
db_port=${BENCH_DB_PORT:-3318}
redis_port=${BENCH_REDIS_PORT:-6391}
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
export PV_LOGIN_MAX_FAILURES=1000
"$bin/pillivery-api" --migrate > "$var/api.log" 2>&1 || { cat "$var/api.log"; exit 1; }
"$bin/pillivery-api" >> "$var/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fs "$api/health" > /dev/null 2>&1 && break; sleep 0.1; done

# a user to log in as and to read
curl -s -o /dev/null -X POST "$api/api/users" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"Bench1234!","displayName":"bench","city":"서울","detailAddress":"1","realName":"벤치"}'
hdrs=$(curl -si -X POST "$api/api/users/auth" -H 'Content-Type: application/json' \
	-d '{"username":"bench@example.com","password":"Bench1234!"}' | tr -d '\r')
token=$(printf '%s\n' "$hdrs" | sed -n 's/^Authorization: Bearer //Ip')
uid=$(printf '%s\n' "$hdrs" | sed -n 's/^userId: //Ip')
[ -n "$token" ] || { echo "login failed"; tail "$var/api.log"; exit 1; }

base_rps=
run() { # name, wrk args...
	local name=$1 out rps p50 p99 ratio
	shift
	out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@" 2>&1)
	rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
	p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
	non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
	[ -z "$base_rps" ] && base_rps=$rps
	ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }')
	printf '%-28s %10s req/s  p50 %8s  p99 %8s  ratio %6s%s\n' "$name" "$rps" "$p50" "$p99" \
		"$ratio" "${non2xx:+  non-2xx $non2xx}"
}

echo "pillivery-api benchmark: ${secs}s per scenario, $conns connections, $threads wrk threads"
run "GET /health (baseline)" "$api/health"
run "POST /api/users (signup)" -s "$here/signup.lua" "$api/api/users"
run "POST /api/users/auth (login)" -s "$here/login.lua" "$api/api/users/auth"
run "GET /api/users/{id}" -H "Authorization: Bearer $token" "$api/api/users/$uid"
printf 'peak RSS of pillivery-api: %s\n' "$(awk '/VmHWM/ {print $2 " " $3}' /proc/$api_pid/status)"
