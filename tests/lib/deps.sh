#!/bin/sh
# deps.sh: makes sure every Debian package the build, the tests and the demo need is
# installed. As root it installs what is missing (apt-get); otherwise it prints the exact
# apt-get line and fails. It never starts or stops a system service.
set -eu

PACKAGES="build-essential pkg-config ca-certificates curl tzdata procps
libcivetweb-dev libmariadb-dev libcjson-dev libcurl4-openssl-dev libhiredis-dev libjwt-dev
libevent-dev check libcrypt-dev mariadb-server mariadb-client redis-server wrk"

missing=""
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pillivery: missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "pillivery: installing missing packages:$missing"
# Package installs must not start system MariaDB or Redis: we run private instances.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
rc=0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || rc=$?
if [ $rc = 0 ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing > /tmp/pillivery-apt.log 2>&1 || rc=$?
fi
[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
if [ $rc != 0 ]; then
	tail -n 20 /tmp/pillivery-apt.log >&2 2>/dev/null || true
	echo "pillivery: apt-get failed ($rc)" >&2
	exit 1
fi
