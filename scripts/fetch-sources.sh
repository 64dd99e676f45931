#!/bin/bash
# Fetch lwIP and mbedTLS from Debian's source packages into deps/ (ignored
# by git) and check that the versions are the ones the ports are written
# for. Uses a private apt source list, so the system's apt setup is not
# touched. Usage: scripts/fetch-sources.sh [lwip] [mbedtls]
set -euo pipefail

cd "$(dirname "$0")/.."
DEPS=deps
WANT_LWIP=2.1.3
WANT_MBEDTLS=2.28.
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(lwip mbedtls)

have() {
	case "$1" in
	lwip) [ -f "$DEPS/lwip/src/include/lwip/init.h" ] ;;
	mbedtls) [ -f "$DEPS/mbedtls/include/mbedtls/version.h" ] ;;
	esac
}

check_version() {
	local got
	case "$1" in
	lwip)
		got=$(awk '/define LWIP_VERSION_(MAJOR|MINOR|REVISION)[[:space:]]/ { sub(/\r$/, "", $3); v = v (v ? "." : "") $3 } END { print v }' \
			"$DEPS/lwip/src/include/lwip/init.h")
		[ "$got" = "$WANT_LWIP" ] || { echo "fetch-sources: lwIP $got, want $WANT_LWIP" >&2; exit 1; } ;;
	mbedtls)
		got=$(awk '/define MBEDTLS_VERSION_STRING[[:space:]]/ { gsub(/["\r]/, "", $3); print $3 }' \
			"$DEPS/mbedtls/include/mbedtls/version.h")
		case "$got" in "$WANT_MBEDTLS"*) ;; *) echo "fetch-sources: mbedTLS $got, want ${WANT_MBEDTLS}x" >&2; exit 1 ;; esac ;;
	esac
	echo "fetch-sources: $1 $got in $DEPS/$1"
}

fetch() {
	local apt="$DEPS/apt" opts
	mkdir -p "$apt/lists/partial" "$apt/sources" "$apt/archives/partial"
	cat > "$apt/sources/deb-src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$PWD/$apt/sources"
	      -o "Dir::State::Lists=$PWD/$apt/lists" -o Debug::NoLocking=1)
	[ -n "$(ls "$apt/lists" 2>/dev/null | grep -v partial)" ] || apt-get -q "${opts[@]}" update >/dev/null
	(cd "$DEPS" && apt-get -q "${opts[@]}" source --download-only "$1" >/dev/null 2>&1)
	local dsc
	dsc=$(ls "$DEPS"/"$1"_*.dsc | head -1)
	rm -rf "$DEPS/$1.tmp" && dpkg-source -x --skip-patches "$dsc" "$DEPS/$1.tmp" >/dev/null 2>&1
	rm -rf "$DEPS/$1" && mv "$DEPS/$1.tmp" "$DEPS/$1"
}

for p in "${pkgs[@]}"; do
	have "$p" || fetch "$p"
	check_version "$p"
done
