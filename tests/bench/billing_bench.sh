#!/usr/bin/env bash
# billing_bench.sh: benchmark of the recurring billing daemon (pillivery-billing --once) against
# the fake Kakao Pay gateway at 50 ms latency, in one invocation:
#   1. fresh private MariaDB + Redis under var/bench-billing, --migrate, the demo catalogue, the
#      fake gateway (PV_FAKEPAY_LATENCY_MS, PV_FAKEPAY_LOG=0);
#   2. baseline: BILLING_BENCH_BASE_N due subscriptions (tests/lib/billing_seed.sh) charged by
#      one --once pass with PV_BILLING_CONCURRENCY=1 (one charge at a time): charges/s;
#   3. main run: BILLING_BENCH_N due subscriptions charged by one --once pass with concurrency
#      512, claim batch 1000, apply batch 500 (the best found; BILLING_BENCH_CONCURRENCY,
#      _CLAIM_BATCH, _APPLY_BATCH, _DB_WORKERS override, empty = the daemon's default): charges/s
#      (claimed and charged over the pass duration), pass duration, transactions per charge,
#      the daemon's peak RSS, the ratio to the baseline; as diagnostics, the CPU used by the
#      daemon, MariaDB and the fake during the run and MariaDB statements per charge;
#   4. the fake's ledger and the database agree: ledger payments == APPROVED billing_attempt
#      rows (same partner_order_id, tid, SID and amount), no partner_order_id or payload with two
#      PAYMENTs, every seeded subscription charged exactly once (one APPROVED attempt, one
#      ledger payment on its SID, no longer due). A failed check makes the exit status 1.
# Every service it starts is stopped on exit, failure or Ctrl-C.
#
#   BUILD=build bash tests/bench/billing_bench.sh
#   BILLING_BENCH_N=10000 BILLING_BENCH_BASE_N=300 BILLING_BENCH_LATENCY_MS=50
#   BILLING_BENCH_CONCURRENCY=512 BILLING_BENCH_CLAIM_BATCH=1000 BILLING_BENCH_APPLY_BATCH=500
#   BILLING_BENCH_DB_WORKERS= (empty: the daemon's default)
#   BILLING_BENCH_ENV='PV_X=1 PV_Y=2' (more settings for the main pass)
#   BILLING_BENCH_DB_SOCKET=1 (the daemon talks to MariaDB over its unix socket, not TCP)
#   BUILD=/abs/path/build (binaries of another build)   ports: BILLING_BENCH_DB_PORT=3328
#   BILLING_BENCH_REDIS_PORT=6401 BILLING_BENCH_FAKEPAY_PORT=18400
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) bin=$BUILD/bin ;; *) bin=$root/$BUILD/bin ;; esac
var=$root/var/bench-billing
svc=$root/tests/lib/services.sh
n=${BILLING_BENCH_N:-100000}
base_n=${BILLING_BENCH_BASE_N:-300}
latency=${BILLING_BENCH_LATENCY_MS:-50}
# the main pass's settings: the best found on 2 cores at 50 ms (set one empty for the daemon's
# own default)
concurrency=${BILLING_BENCH_CONCURRENCY-512}
claim_batch=${BILLING_BENCH_CLAIM_BATCH-1000}
apply_batch=${BILLING_BENCH_APPLY_BATCH-500}
db_workers=${BILLING_BENCH_DB_WORKERS-}
extra_env=${BILLING_BENCH_ENV:-}
db_port=${BILLING_BENCH_DB_PORT:-3328}
redis_port=${BILLING_BENCH_REDIS_PORT:-6401}
fake_port=${BILLING_BENCH_FAKEPAY_PORT:-18400}
fake_url=http://127.0.0.1:$fake_port
fake_key=bench-billing-fake-secret-key
sock=$var/mariadb.sock
fake_pid=
run_pid=
sampler_pid=
failed=0

die() { echo "billing_bench: $*" >&2; exit 1; }

for b in pillivery-billing pillivery-api fake-kakaopay; do
	[ -x "$bin/$b" ] || die "$bin/$b is not built (make all)"
done
command -v python3 > /dev/null || die "python3 is missing (make deps)"
command -v curl > /dev/null || die "curl is missing (make deps)"
gnu_time=
/usr/bin/time -v true > /dev/null 2>&1 && gnu_time=/usr/bin/time
ulimit -n "$(ulimit -Hn)" 2> /dev/null

cleanup() {
	trap - EXIT INT TERM
	local kids
	if [ -n "$run_pid" ]; then
		# TERM to the daemon (GNU time's child, or run_pid itself) drains its in-flight charges;
		# GNU time then exits with it
		kids=$(ps -o pid= --ppid "$run_pid" 2> /dev/null)
		kill -TERM ${kids:-$run_pid} 2> /dev/null
		wait "$run_pid" 2> /dev/null
	fi
	[ -n "$sampler_pid" ] && kill "$sampler_pid" 2> /dev/null && wait "$sampler_pid" 2> /dev/null
	if [ -n "$fake_pid" ]; then
		kill -TERM "$fake_pid" 2> /dev/null
		wait "$fake_pid" 2> /dev/null
	fi
	bash "$svc" stop "$var"
}
trap cleanup EXIT
trap 'echo "billing_bench: interrupted" >&2; exit 130' INT TERM

# ---- 1. services ---------------------------------------------------------------------------

bash "$svc" stop "$var" 2> /dev/null
rm -rf "$var"
mkdir -p "$var"
# both passes run this copy, even if the build changes meanwhile
built_at=$(date -r "$bin/pillivery-billing" '+%F %T')
cp "$bin/pillivery-billing" "$var/pillivery-billing" || die "cannot copy pillivery-billing"
billing=$var/pillivery-billing
# MariaDB's temporary files in a folder of its own (a shared /tmp may be cleaned under it)
mkdir -p "$var/tmp"
TMPDIR=$var/tmp PV_DB_FLUSH=2 bash "$svc" start-db "$var" "$db_port" > /dev/null || exit 1
bash "$svc" start-redis "$var" "$redis_port" > /dev/null || exit 1

unset PV_DB_SOCKET
export PV_DB_HOST=127.0.0.1 PV_DB_PORT=$db_port PV_REDIS_HOST=127.0.0.1 PV_REDIS_PORT=$redis_port
[ -n "${BILLING_BENCH_DB_SOCKET:-}" ] && export PV_DB_SOCKET=$sock
export PV_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
export PV_KAKAOPAY_SECRET_KEY=$fake_key PV_KAKAOPAY_BASE_URL=$fake_url
# --once needs no listener; every cycle of today is due whatever the time of day
export PV_BILLING_PORT=0 PV_BILLING_CHARGE_TIME=00:00 PV_LOG_LEVEL=info
export PV_BILLING_LOCK_KEY=billing:bench:leader

sql() { mariadb --no-defaults -S "$sock" -uroot pillivery "$@"; }
sql1() { sql -N -B -e "$1"; }

"$bin/pillivery-api" --migrate > "$var/migrate.log" 2>&1 || { cat "$var/migrate.log"; die "--migrate failed"; }
sql < "$root/core/sql/seed/demo_catalogue.sql" || die "cannot load the demo catalogue"

PV_FAKEPAY_LISTEN=127.0.0.1:$fake_port PV_FAKEPAY_SECRET_KEY=$fake_key PV_FAKEPAY_LOG=0 \
	PV_FAKEPAY_LATENCY_MS=$latency "$bin/fake-kakaopay" > "$var/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 50); do
	curl -fs "$fake_url/__control/health" > /dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "$fake_url/__control/health" > /dev/null || { cat "$var/fake.log"; die "fake-kakaopay did not start"; }

seed() { # COUNT: prints the id range S..E
	local out
	out=$(bash "$root/tests/lib/billing_seed.sh" "$sock" pillivery "$fake_url" "$1" 2> "$var/seed.err") ||
		{ cat "$var/seed.err" >&2; die "billing_seed.sh $1 failed"; }
	printf '%s\n' "$out" | sed -n 's/^seeded [0-9]* subscriptions //p'
}

# ---- measuring one pass --------------------------------------------------------------------

cpu_ticks() { # PID: utime + stime of a process, in clock ticks (0 when it is gone)
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2> /dev/null || echo 0
}
# whole machine: busy and total jiffies
sys_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }

db_status() { # the MariaDB counters the report uses, as NAME VALUE lines
	sql1 "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_stmt_execute', 'Com_select',
	  'Com_insert', 'Com_insert_select', 'Com_update', 'Com_update_multi', 'Com_delete',
	  'Com_delete_multi', 'Com_commit', 'Com_rollback', 'Questions',
	  'Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Innodb_deadlocks', 'Created_tmp_tables',
	  'Created_tmp_disk_tables')"
}

# Runs pillivery-billing --once with the given VAR=VALUE settings; log in $var/NAME.log, GNU
# time's report in $var/NAME.time, CPU and RSS samples of the daemon in $var/NAME.samples.
run_pass() {
	local name=$1 daemon='' rc
	shift
	if [ -n "$gnu_time" ]; then
		env "$@" "$gnu_time" -v -o "$var/$name.time" "$billing" --once > "$var/$name.log" 2>&1 &
	else
		env "$@" "$billing" --once > "$var/$name.log" 2>&1 &
	fi
	run_pid=$!
	if [ -n "$gnu_time" ]; then
		for _ in $(seq 1 100); do
			daemon=$(ps -o pid= --ppid "$run_pid" 2> /dev/null | tr -d ' ')
			[ -n "$daemon" ] && break
			sleep 0.01
		done
	else
		daemon=$run_pid
	fi
	# VmHWM and CPU ticks of the daemon until it exits (the last line is the peak)
	(
		while [ -n "$daemon" ] && [ -r "/proc/$daemon/status" ]; do
			printf '%s %s\n' "$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status" 2> /dev/null)" \
				"$(cpu_ticks "$daemon")"
			sleep 0.2
		done
	) > "$var/$name.samples" 2> /dev/null &
	sampler_pid=$!
	wait "$run_pid"
	rc=$?
	run_pid=
	wait "$sampler_pid" 2> /dev/null
	sampler_pid=
	return $rc
}

pass_field() { # NAME FIELD: a field of the "billing pass" line of NAME's log
	python3 - "$var/$1.log" "$2" << 'PY'
import json, sys
v = ""
for line in open(sys.argv[1], errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("msg") == "billing pass":
        v = o.get(sys.argv[2], "")
print(v)
PY
}

peak_rss_kb() { # NAME
	local kb=
	[ -f "$var/$1.time" ] && kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$var/$1.time")
	[ -z "$kb" ] && kb=$(awk '$1 > m { m = $1 } END { print m + 0 }' "$var/$1.samples")
	echo "$kb"
}

log_problems() { # NAME: warn and error lines of the daemon's log (first 5 and a count)
	local cnt
	cnt=$(grep -c '"level":"\(warn\|error\)"' "$var/$1.log")
	if [ "$cnt" -gt 0 ]; then
		echo "  daemon log: $cnt warn/error lines (first 5; $var/$1.log):"
		grep '"level":"\(warn\|error\)"' "$var/$1.log" | head -5 | cut -c1-300 | sed 's/^/    /'
	fi
}

rate() { awk -v a="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.1f", a * 1000 / ms; else print "n/a" }'; }

settings="concurrency ${concurrency:-default}, claim batch ${claim_batch:-default}, apply batch ${apply_batch:-default}, db workers ${db_workers:-default}${extra_env:+, $extra_env}"
echo "billing benchmark: fake Kakao Pay at $latency ms; baseline $base_n charges one at a time;" \
	"main $n charges ($settings); MariaDB over $([ -n "${PV_DB_SOCKET:-}" ] && echo 'its unix socket' || echo TCP)," \
	"innodb_flush_log_at_trx_commit=2; $(nproc) CPUs"
echo "pillivery-billing: $bin/pillivery-billing built $built_at, sha256 $(sha256sum "$billing" | cut -c1-12)"

# ---- 2. baseline ---------------------------------------------------------------------------

range=$(seed "$base_n")
[ -n "$range" ] || die "seeding the baseline gave no subscriptions"
run_pass baseline PV_BILLING_CONCURRENCY=1 ||
	{ rc=$?; tail -5 "$var/baseline.log"; die "the baseline pass failed (exit $rc)"; }
b_charged=$(pass_field baseline charged)
b_ms=$(pass_field baseline duration_ms)
[ -n "$b_charged" ] || { tail -5 "$var/baseline.log"; die "no \"billing pass\" line in the baseline log"; }
base_rate=$(rate "$b_charged" "$b_ms")
printf '%-36s %10s charges/s  %6s charged in %7s ms  transactions %s  failed %s unknown %s\n' \
	"baseline, concurrency 1" "$base_rate" "$b_charged" "$b_ms" "$(pass_field baseline transactions)" \
	"$(pass_field baseline failed)" "$(pass_field baseline unknown)"
log_problems baseline

# ---- 3. main run ---------------------------------------------------------------------------

t0=$(date +%s%N)
range=$(seed "$n")
[ -n "$range" ] || die "seeding the main run gave no subscriptions"
echo "seeded $n due subscriptions ($range) in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

main_env=()
[ -n "$concurrency" ] && main_env+=("PV_BILLING_CONCURRENCY=$concurrency")
[ -n "$claim_batch" ] && main_env+=("PV_BILLING_CLAIM_BATCH=$claim_batch")
[ -n "$apply_batch" ] && main_env+=("PV_BILLING_APPLY_BATCH=$apply_batch")
[ -n "$db_workers" ] && main_env+=("PV_BILLING_DB_WORKERS=$db_workers")
for kv in $extra_env; do main_env+=("$kv"); done
db_pid=$(cat "$var/mariadb.pid")
redis_pid=$(cat "$var/redis.pid")
db_status > "$var/status.before"
db0=$(cpu_ticks "$db_pid") fk0=$(cpu_ticks "$fake_pid") rd0=$(cpu_ticks "$redis_pid")
read -r sys_busy0 sys_all0 < <(sys_ticks)
echo "load average before the main pass: $(cut -d' ' -f1-3 /proc/loadavg)"
w0=$(date +%s%N)
run_pass main "${main_env[@]}" || { rc=$?; tail -5 "$var/main.log"; die "the main pass failed (exit $rc)"; }
wall_ms=$(( ($(date +%s%N) - w0) / 1000000 ))
db1=$(cpu_ticks "$db_pid") fk1=$(cpu_ticks "$fake_pid") rd1=$(cpu_ticks "$redis_pid")
read -r sys_busy1 sys_all1 < <(sys_ticks)
db_status > "$var/status.after"

m_due=$(pass_field main due)
m_claimed=$(pass_field main claimed)
m_charged=$(pass_field main charged)
m_ms=$(pass_field main duration_ms)
m_tx=$(pass_field main transactions)
[ -n "$m_charged" ] || { tail -5 "$var/main.log"; die "no \"billing pass\" line in the main log"; }
main_rate=$(rate "$m_charged" "$m_ms")
hz=$(getconf CLK_TCK)
rss=$(peak_rss_kb main)
daemon_ticks=$(tail -1 "$var/main.samples" | awk '{ print $2 + 0 }')
if [ -f "$var/main.time" ]; then # GNU time has the exact CPU use of the daemon
	daemon_ticks=$(awk -F': ' -v hz="$hz" '/User time|System time/ { s += $2 } END { printf "%d", s * hz }' "$var/main.time")
fi
pct() { awk -v t="$1" -v hz="$hz" -v ms="$wall_ms" 'BEGIN { printf "%.2f s (%.0f%%)", t / hz, (ms > 0 ? t / hz * 100000 / ms : 0) }'; }

echo "main run: $settings"
printf '%-36s %10s charges/s  claimed %s/s  ratio %s\n' "main, $n charges" "$main_rate" \
	"$(rate "$m_claimed" "$m_ms")" \
	"$(awk -v a="$main_rate" -v b="$base_rate" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')"
printf '  pass: due %s claimed %s charged %s declined %s failed %s unknown %s in %s ms (process %s ms)\n' \
	"$m_due" "$m_claimed" "$m_charged" "$(pass_field main declined)" "$(pass_field main failed)" \
	"$(pass_field main unknown)" "$m_ms" "$wall_ms"
printf '  transactions: %s, %s per charge\n' "$m_tx" \
	"$(awk -v t="$m_tx" -v c="$m_charged" 'BEGIN { if (c > 0) printf "%.4f", t / c; else print "n/a" }')"
m_claim_ms=$(pass_field main claim_ms) m_apply_ms=$(pass_field main apply_ms)
[ -n "$m_claim_ms$m_apply_ms" ] &&
	printf '  database time (sum over transactions): claim %s ms, apply %s ms; %s ms per charge\n' \
		"${m_claim_ms:-?}" "${m_apply_ms:-?}" \
		"$(awk -v a="${m_claim_ms:-0}" -v b="${m_apply_ms:-0}" -v c="$m_charged" 'BEGIN { if (c > 0) printf "%.3f", (a + b) / c; else print "n/a" }')"
printf '  peak RSS of pillivery-billing: %s kB (%s)\n' "$rss" "$([ -n "$gnu_time" ] && echo 'GNU time -v' || echo 'VmHWM samples')"
printf '  CPU during the run (of one core): pillivery-billing %s, mariadbd %s, fake-kakaopay %s, redis %s; machine busy %s%%\n' \
	"$(pct "$daemon_ticks")" "$(pct $((db1 - db0)))" "$(pct $((fk1 - fk0)))" "$(pct $((rd1 - rd0)))" \
	"$(awk -v b=$((sys_busy1 - sys_busy0)) -v a=$((sys_all1 - sys_all0)) 'BEGIN { printf "%.0f", (a > 0 ? b * 100 / a : 0) }')"
python3 - "$var/status.before" "$var/status.after" "$m_charged" << 'PY'
import sys
def load(p):
    return {l.split()[0]: int(l.split()[1]) for l in open(p) if l.strip()}
a, b, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3] or 0)
d = {k: b[k] - a.get(k, 0) for k in b}
per = lambda k: d.get(k, 0) / n if n else 0
print("  MariaDB per charge: %.2f statements (%.2f prepared; select %.2f, insert %.2f, update %.2f,"
      " delete %.2f), %.3f commits, %.4f rollbacks; row lock waits %d (%d ms), deadlocks %d" % (
      per("Questions"), per("Com_stmt_execute"), per("Com_select"),
      per("Com_insert") + per("Com_insert_select"), per("Com_update") + per("Com_update_multi"),
      per("Com_delete") + per("Com_delete_multi"), per("Com_commit"), per("Com_rollback"),
      d.get("Innodb_row_lock_waits", 0), d.get("Innodb_row_lock_time", 0),
      d.get("Innodb_deadlocks", 0)))
print("  MariaDB temporary tables during the pass: %d, %d of them on disk" % (
      d.get("Created_tmp_tables", 0), d.get("Created_tmp_disk_tables", 0)))
PY
log_problems main

# ---- 4. the ledger and the database agree --------------------------------------------------

curl -fs "$fake_url/__control/ledger/summary" > "$var/summary.json" || die "GET /__control/ledger/summary failed"
curl -fs "$fake_url/__control/ledger?kind=PAYMENT" > "$var/ledger.json" || die "GET /__control/ledger failed"
sql1 "SELECT partner_order_id, tid, sid, approved_amount FROM billing_attempt WHERE status = 'APPROVED'" > "$var/approved.tsv"
sql1 "SELECT s.subscription_id, s.sid, s.next_payment_date > DATE(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', '+09:00')),
  (SELECT COUNT(*) FROM billing_attempt b WHERE b.subscription_id = s.subscription_id AND b.status = 'APPROVED'),
  (SELECT COUNT(*) FROM orders o WHERE o.subscription_id = s.subscription_id AND o.is_renewal = 1)
  FROM subscriptions s" > "$var/subs.tsv"
sql1 "SELECT status, COUNT(*) FROM billing_attempt GROUP BY status" > "$var/attempts.tsv"
python3 - "$var" << 'PY' || failed=1
import json, sys
var = sys.argv[1]
summary = json.load(open(var + "/summary.json"))
ledger = [e for e in json.load(open(var + "/ledger.json"))["entries"] if e["kind"] == "PAYMENT"]
approved = [l.rstrip("\n").split("\t") for l in open(var + "/approved.tsv") if l.strip()]
subs = [l.rstrip("\n").split("\t") for l in open(var + "/subs.tsv") if l.strip()]
attempts = dict(l.split() for l in open(var + "/attempts.tsv") if l.strip())
bad = 0

def check(ok, what):
    global bad
    print("  %-4s %s" % ("ok" if ok else "FAIL", what))
    bad += not ok

print("ledger vs database: billing_attempt rows %s" % (
    ", ".join("%s %s" % kv for kv in sorted(attempts.items())) or "none"))
check(summary["payments"] == len(approved),
      "ledger payments %d == APPROVED billing_attempt rows %d" % (summary["payments"], len(approved)))
check(not summary["dup_partner_order_ids"],
      "no partner_order_id with two PAYMENTs (%d found)" % len(summary["dup_partner_order_ids"]))
check(not summary["dup_payloads"], "no payload with two PAYMENTs (%d found)" % len(summary["dup_payloads"]))
ours = {(e.get("partner_order_id"), e["tid"], e.get("sid"), int(e["amount"])) for e in ledger}
theirs = {(p, t, s, int(a)) for p, t, s, a in approved}
check(ours == theirs, "ledger payments and APPROVED attempts are the same (partner_order_id, tid,"
      " SID, amount): %d only in the ledger, %d only in the database" % (len(ours - theirs), len(theirs - ours)))
charged = sum(int(e["amount"]) for e in ledger)
check(summary["charged_total"] == charged == sum(int(a) for *_, a in approved),
      "charged total %d KRW in the ledger and the database" % summary["charged_total"])
per_sid = {p["value"]: p["payments"] for p in summary["payments_per_sid"]}
once = sum(1 for _, sid, nxt, nap, nord in subs
           if per_sid.get(sid) == 1 and nxt == "1" and nap == "1" and nord == "1")
check(once == len(subs), "every seeded subscription charged exactly once: %d of %d (one ledger"
      " payment on its SID, one APPROVED attempt, one renewal order, no longer due)" % (once, len(subs)))
sys.exit(1 if bad else 0)
PY

[ "$failed" = 0 ] || { echo "billing_bench: the ledger and the database disagree (files in $var)"; exit 1; }
exit 0
