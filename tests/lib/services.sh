#!/usr/bin/env bash
# services.sh: private MariaDB and Redis instances under a folder of ./var, on their own
# ports and sockets. Never touches system services.
#
#   services.sh start-db DIR PORT      initialise (first time) and start MariaDB, create the
#                                      database and user pillivery/pillivery
#   services.sh stop-db DIR
#   services.sh start-redis DIR PORT [persist]
#   services.sh stop-redis DIR
#   services.sh stop DIR               both
#   services.sh stop-all               every instance under ./var
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

DB_NAME=${PV_DB_NAME:-pillivery}
DB_USER=${PV_DB_USER:-pillivery}
DB_PASSWORD=${PV_DB_PASSWORD:-pillivery}

die() { echo "services: $*" >&2; exit 1; }

port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null
}

start_db() {
	local dir=$1 port=$2 data user
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
	data=$dir/mariadb
	user=$(id -un)
	if pid_alive "$dir/mariadb.pid"; then
		return 0
	fi
	port_busy "$port" && die "port $port is in use; set another port (see README) or stop what uses it"
	if [ ! -d "$data/mysql" ]; then
		mkdir -p "$data"
		mariadb-install-db --no-defaults --datadir="$data" --user="$user" \
			--auth-root-authentication-method=normal --skip-test-db \
			> "$dir/mariadb-install.log" 2>&1 || die "mariadb-install-db failed, see $dir/mariadb-install.log"
	fi
	mariadbd --no-defaults --datadir="$data" --socket="$dir/mariadb.sock" --port="$port" \
		--bind-address=127.0.0.1 --pid-file="$dir/mariadb.pid" --log-error="$dir/mariadb.err" \
		--user="$user" --skip-name-resolve --character-set-server=utf8mb4 \
		--collation-server=utf8mb4_unicode_ci --max-connections=1000 \
		--innodb-buffer-pool-size=256M --innodb-log-file-size=64M \
		--query-cache-type=DEMAND --query-cache-size=64M --query-cache-limit=1M \
		--innodb-flush-log-at-trx-commit="${PV_DB_FLUSH:-1}" --skip-log-bin \
		> /dev/null 2>&1 &
	local i
	for i in $(seq 1 150); do
		if mariadb-admin --no-defaults -S "$dir/mariadb.sock" -uroot ping > /dev/null 2>&1; then
			break
		fi
		sleep 0.2
	done
	mariadb-admin --no-defaults -S "$dir/mariadb.sock" -uroot ping > /dev/null 2>&1 ||
		die "MariaDB did not start, see $dir/mariadb.err"
	mariadb --no-defaults -S "$dir/mariadb.sock" -uroot <<SQL || die "could not create the database"
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
SQL
}

stop_pidfile() {
	local pidfile=$1 pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for i in $(seq 1 150); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$pidfile"
}

stop_db() { stop_pidfile "$1/mariadb.pid"; }

start_redis() {
	local dir=$1 port=$2 persist=${3:-no}
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
	if pid_alive "$dir/redis.pid"; then
		return 0
	fi
	port_busy "$port" && die "port $port is in use; set another port (see README) or stop what uses it"
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
		--pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
		--appendonly "$persist" --appendfilename redis.aof > /dev/null ||
		die "redis-server failed, see $dir/redis.log"
	local i
	for i in $(seq 1 100); do
		redis-cli -p "$port" ping > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "Redis did not start, see $dir/redis.log"
}

stop_redis() { stop_pidfile "$1/redis.pid"; }

case "${1:-}" in
start-db) start_db "$2" "$3" ;;
stop-db) stop_db "$2" ;;
start-redis) start_redis "$2" "$3" "${4:-no}" ;;
stop-redis) stop_redis "$2" ;;
stop) stop_db "$2"; stop_redis "$2" ;;
stop-all)
	for d in "$root"/var/*/; do
		[ -d "$d" ] || continue
		stop_pidfile "$d/api.pid"; stop_pidfile "$d/billing.pid"; stop_pidfile "$d/fakepay.pid"
		stop_db "$d"; stop_redis "$d"
	done ;;
*) die "usage: services.sh start-db|stop-db|start-redis|stop-redis|stop DIR [PORT] | stop-all" ;;
esac
