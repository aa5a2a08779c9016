# lib.sh: shared by the wrk benchmarks (sourced). The caller sets var, db_port, redis_port,
# port and bin before calling bench_services / bench_api_start, and base_rps stays empty
# until the first bench_run (the baseline).
#   bench_services            fresh private MariaDB + Redis under $var, stopped on exit
#   bench_api_start [hook]    --migrate, run the hook (e.g. load data), start pillivery-api
#   bench_run NAME WRK-ARGS   one wrk scenario: req/s, p50, p99, ratio to the baseline, non-2xx
#   bench_rss                 the daemon's peak RSS (VmHWM)
svc=$root/tests/lib/services.sh
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-16}
threads=${BENCH_THREADS:-2}
api=http://127.0.0.1:$port
api_pid=
base_rps=

bench_cleanup() {
	[ -n "$api_pid" ] && kill "$api_pid" 2> /dev/null && wait "$api_pid" 2> /dev/null
	bash "$svc" stop "$var"
}

bench_services() {
	command -v wrk > /dev/null || { echo "wrk is not installed (make deps)"; exit 1; }
	bash "$svc" stop "$var" 2> /dev/null
	rm -rf "$var"
	mkdir -p "$var"
	trap bench_cleanup EXIT
	PV_DB_FLUSH=2 bash "$svc" start-db "$var" "$db_port" > /dev/null || exit 1
	bash "$svc" start-redis "$var" "$redis_port" > /dev/null || exit 1
	export PV_DB_PORT=$db_port PV_REDIS_PORT=$redis_port PV_API_PORT=$port PV_API_BIND=127.0.0.1
	export PV_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123 PV_LOG_LEVEL=warn
	# the daemon refuses to start without a Kakao Pay key (KAKAOPAY.md §0); benchmarks that
	# pay start the fake and set both themselves
	export PV_KAKAOPAY_SECRET_KEY=${PV_KAKAOPAY_SECRET_KEY:-bench-fake-kakaopay-key}
	export PV_KAKAOPAY_BASE_URL=${PV_KAKAOPAY_BASE_URL:-http://127.0.0.1:18090}
}

bench_sql() { mariadb --no-defaults -S "$var/mariadb.sock" -uroot pillivery "$@"; }

bench_api_start() {
	"$bin/pillivery-api" --migrate > "$var/api.log" 2>&1 || { cat "$var/api.log"; exit 1; }
	if [ -n "${1:-}" ]; then "$1" || exit 1; fi
	"$bin/pillivery-api" >> "$var/api.log" 2>&1 &
	api_pid=$!
	for _ in $(seq 1 100); do curl -fs "$api/health" > /dev/null 2>&1 && return 0; sleep 0.1; done
	echo "pillivery-api did not start"; tail "$var/api.log"; exit 1
}

bench_run() {
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

bench_rss() {
	printf 'peak RSS of pillivery-api: %s\n' "$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$api_pid/status")"
}
