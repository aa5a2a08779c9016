#!/usr/bin/env bash
# check.sh: the whole suite, unit then integration, against fresh private MariaDB and Redis
# instances under ./var/test. Called by `make check` (after the build); ends with the line
# "N passed, N failed". PV_CHECK_ONLY=unit|it runs one half.
#
# Ports (override when busy): PV_TEST_DB_PORT 3308, PV_TEST_REDIS_PORT 6381,
# PV_TEST_API_PORT 18280 (the test fakes use ports above it: +1, +10, +20, +21).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
bin=$root/$BUILD/bin
var=${PV_TEST_VAR:-$root/var/test}
svc=$here/services.sh
only=${PV_CHECK_ONLY:-all}

db_port=${PV_TEST_DB_PORT:-3308}
redis_port=${PV_TEST_REDIS_PORT:-6381}

bash "$svc" stop "$var" 2> /dev/null
rm -rf "$var"
mkdir -p "$var"
cleanup() { bash "$svc" stop "$var" 2> /dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "pillivery: starting private MariaDB (:$db_port) and Redis (:$redis_port) under var/test"
PV_DB_FLUSH=2 bash "$svc" start-db "$var" "$db_port" || exit 1
bash "$svc" start-redis "$var" "$redis_port" || exit 1

export PV_DB_HOST=127.0.0.1 PV_DB_PORT=$db_port PV_DB_USER=pillivery PV_DB_PASSWORD=pillivery
export PV_DB_NAME=pillivery PV_DB_SOCKET=
export PV_REDIS_HOST=127.0.0.1 PV_REDIS_PORT=$redis_port
export PV_IT_VAR=$var PV_IT_BIN_DIR=$bin PV_IT_SERVICES=$svc PV_IT_ROOT=$root
export PV_IT_API_PORT=${PV_TEST_API_PORT:-18280}
export PV_IT_DB_DIR=$var PV_IT_DB_PORT=$db_port PV_IT_REDIS_PORT=$redis_port
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
if [ "${SANITIZE:-}" = 1 ]; then
	mkdir -p "$var/sanitizer"
	export ASAN_OPTIONS="log_path=$var/sanitizer/asan:detect_leaks=1:abort_on_error=0"
	export UBSAN_OPTIONS="log_path=$var/sanitizer/ubsan:print_stacktrace=1:halt_on_error=1"
	export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
fi

total_run=0
total_fail=0
run_part() {
	local name=$1 prog=$2 rc r f
	echo "pillivery: $name tests"
	rm -f "$var/$name.counts"
	PV_CHECK_COUNTS=$var/$name.counts "$prog"
	rc=$?
	if read -r r f < "$var/$name.counts" 2> /dev/null; then :; else r=0; f=0; fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "pillivery: $name runner exited with status $rc"
		f=1
		[ "$r" = 0 ] && r=1
	fi
	total_run=$((total_run + r))
	total_fail=$((total_fail + f))
}

case "$only" in
all | unit) run_part unit "$bin/unit-tests" ;;
esac
# SQL-level constraint tests of the schema and the seed (core/sql/checks/schema_test.sh)
run_schema() {
	local out r f
	echo "pillivery: schema tests"
	out=$(bash "$root/core/sql/checks/schema_test.sh" "$var/mariadb.sock" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' | tail -n 20
	r=$(printf '%s\n' "$out" | sed -n 's/^schema_test: passed \([0-9]*\), failed \([0-9]*\)$/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^schema_test: passed \([0-9]*\), failed \([0-9]*\)$/\2/p')
	[ -n "$r" ] || { r=0; f=1; echo "pillivery: schema tests did not finish"; }
	total_run=$((total_run + r + f))
	total_fail=$((total_fail + f))
}

case "$only" in
all | unit) run_schema ;;
esac
case "$only" in
all | it) run_part it "$bin/it-tests" ;;
esac

if [ "${SANITIZE:-}" = 1 ] && ls "$var"/sanitizer/* > /dev/null 2>&1; then
	echo "pillivery: sanitizer reports:"
	for f in "$var"/sanitizer/*; do
		echo "--- $f"
		head -n 40 "$f"
	done
	total_fail=$((total_fail + 1))
	total_run=$((total_run + 1))
fi

echo "$((total_run - total_fail)) passed, $total_fail failed"
[ "$total_fail" = 0 ]
