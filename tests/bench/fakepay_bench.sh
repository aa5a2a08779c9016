#!/usr/bin/env bash
# fakepay_bench.sh: a quick capacity check of the fake Kakao Pay server (KAKAOPAY.md §4.6) with
# wrk. Starts build/bin/fake-kakaopay on 127.0.0.1:$PV_BENCH_FAKEPAY_PORT (default 18091),
# creates one SID, then measures
#   1. requests/s at 0 ms latency (SID status calls, keep-alive, 64 connections);
#   2. in-flight capacity at 100 ms injected latency with many connections
#      (PV_BENCH_FAKEPAY_CONNS, default 5000): requests/s, wrk latency, and the fake's own
#      in_flight.max, connections.max and p50/p99 from /__control/counters.
# Prints figures only; nothing is asserted. Needs wrk and curl.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin/fake-kakaopay
port=${PV_BENCH_FAKEPAY_PORT:-18091}
conns=${PV_BENCH_FAKEPAY_CONNS:-5000}
secs=${PV_BENCH_SECONDS:-10}
threads=${PV_BENCH_THREADS:-4}
key=bench-key
url=http://127.0.0.1:$port
tmp=$(mktemp -d)
fake_pid=

command -v wrk > /dev/null || { echo "fakepay_bench: wrk is not installed" >&2; exit 1; }
[ -x "$bin" ] || { echo "fakepay_bench: $bin not built (make all)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2> /dev/null

cleanup() {
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2> /dev/null
		wait "$fake_pid" 2> /dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

PV_FAKEPAY_LISTEN=127.0.0.1:$port PV_FAKEPAY_SECRET_KEY=$key PV_FAKEPAY_LOG=0 PV_FAKEPAY_SEED=1 \
	"$bin" > "$tmp/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 50); do
	curl -fsS "$url/__control/health" > /dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "$url/__control/health" > /dev/null || { cat "$tmp/fake.log" >&2; exit 1; }

sid=$(curl -fsS -X POST "$url/__control/sid" -H 'Content-Type: application/json' \
	-d '{"cid":"TCSUBSCRIP","partner_user_id":"Ubench","count":1}' |
	sed -n 's/.*"sids":\["\([^"]*\)".*/\1/p')
cat > "$tmp/status.lua" << LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "SECRET_KEY $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"cid":"TCSUBSCRIP","sid":"$sid"}'
LUA

counters() {
	curl -fsS "$url/__control/counters" | python3 -c '
import json, sys
c = json.load(sys.stdin)
l = c["latency_ms"]
print("  fake: in_flight.max=%d connections.max=%d requests=%d p50=%dms p90=%dms p99=%dms" % (
    c["in_flight"]["max"], c["connections"]["max"],
    c["endpoints"]["status"]["requests"], l["p50"], l["p90"], l["p99"]))'
}

echo "fakepay_bench: 1) 0 ms latency, 64 connections, ${secs}s"
wrk -t "$threads" -c 64 -d "${secs}s" --latency -s "$tmp/status.lua" "$url/online/v1/payment/manage/subscription/status" |
	grep -E 'Requests/sec|Latency|99%|Non-2xx|Socket errors'
counters

curl -fsS -X POST "$url/__control/reset" > /dev/null
curl -fsS -X PUT "$url/__control/config" -H 'Content-Type: application/json' -d '{"latency_ms":100}' > /dev/null
sid=$(curl -fsS -X POST "$url/__control/sid" -H 'Content-Type: application/json' \
	-d '{"cid":"TCSUBSCRIP","partner_user_id":"Ubench","count":1}' |
	sed -n 's/.*"sids":\["\([^"]*\)".*/\1/p')
sed -i "s/\"sid\":\"[^\"]*\"/\"sid\":\"$sid\"/" "$tmp/status.lua"
echo "fakepay_bench: 2) 100 ms latency, $conns connections, ${secs}s"
wrk -t "$threads" -c "$conns" -d "${secs}s" --timeout 5s --latency -s "$tmp/status.lua" \
	"$url/online/v1/payment/manage/subscription/status" |
	grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
counters
echo "fakepay_bench: RSS of the fake: $(ps -o rss= -p "$fake_pid" | tr -d ' ') KiB"

# 3) memory per applied charge: RSS growth over many recurring charges (payment + ledger entry)
curl -fsS -X POST "$url/__control/reset" > /dev/null
curl -fsS -X PUT "$url/__control/config" -H 'Content-Type: application/json' -d '{"latency_ms":0}' > /dev/null
sid=$(curl -fsS -X POST "$url/__control/sid" -H 'Content-Type: application/json' \
	-d '{"cid":"TCSUBSCRIP","partner_user_id":"Ubench","count":1}' |
	sed -n 's/.*"sids":\["\([^"]*\)".*/\1/p')
cat > "$tmp/charge.lua" << LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "SECRET_KEY $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"cid":"TCSUBSCRIP","sid":"$sid","partner_order_id":"S1-C20260101-A1","partner_user_id":"Ubench","item_name":"bench","quantity":1,"total_amount":9900,"tax_free_amount":0,"payload":"att:1"}'
LUA
rss0=$(ps -o rss= -p "$fake_pid" | tr -d ' ')
echo "fakepay_bench: 3) recurring charges, 0 ms latency, 64 connections, ${secs}s"
wrk -t "$threads" -c 64 -d "${secs}s" -s "$tmp/charge.lua" "$url/online/v1/payment/subscription" |
	grep -E 'Requests/sec|Non-2xx|Socket errors'
rss1=$(ps -o rss= -p "$fake_pid" | tr -d ' ')
n=$(curl -fsS "$url/__control/counters" | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"]["subscription"]["applied"])')
echo "fakepay_bench: $n charges applied; RSS +$((rss1 - rss0)) KiB = $(( (rss1 - rss0) * 1024 / (n > 0 ? n : 1) )) bytes per charge (payment record + ledger entry)"
