#!/bin/sh
# install-deps.sh: install the Debian packages supportd needs to build, run
# and test, and nothing that is already there. Uses apt-get as root, or
# through sudo. Safe to run again: a machine that has everything is untouched.
set -eu

# openssl: the end-to-end tests make a throwaway certificate for an https
# backend.
PKGS="build-essential pkg-config
libwebsockets-dev libjansson-dev libpcre2-dev liblua5.4-dev
libsqlite3-dev sqlite3 libsodium-dev libutf8proc-dev uthash-dev
libcmocka-dev libyaml-dev libstemmer-dev liblinear-dev libcsv-dev libicu-dev openssl
libexttextcat-dev libexttextcat-data
libhunspell-dev hunspell-pl libmimalloc-dev
chromium fonts-dejavu-core"

# Node.js runs the end-to-end tests. A machine may already have a Node.js
# that did not come from Debian; only ask for Debian's when there is none.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
