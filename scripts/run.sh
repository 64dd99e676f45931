#!/bin/bash
# `make run`: the demo router admin UI on http://127.0.0.1:8080/ . The
# gateway serves the pages from its ROM filesystem (config/ui) and sends
# /api/ to the demo FastCGI app on 127.0.0.1:9000, which also checks the
# login (config/host.routes). Settings the UI saves go to build/run/ and
# survive a restart. Ctrl-C stops both.
set -euo pipefail

GATEWAY=${1:-build/host/fcgate}
APP=${2:-build/apps/fcgi-demo}
APP_ADDR=127.0.0.1:9000
STATE_DIR=build/run
PASSWORD=admin

busy() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }
for a in "$APP_ADDR" 127.0.0.1:8080; do
	if busy "$a"; then
		echo "run: $a is already in use (another make run, or the tests?)" >&2
		exit 1
	fi
done

mkdir -p "$STATE_DIR"
"$APP" --listen "$APP_ADDR" --password "$PASSWORD" --state "$STATE_DIR/settings.conf" &
app=$!
"$GATEWAY" &
gw=$!
stop() {
	trap - INT TERM EXIT
	kill -TERM "$gw" "$app" 2>/dev/null || true
	wait "$gw" "$app" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "run: open http://127.0.0.1:8080/ and log in with the password \"$PASSWORD\" (Ctrl-C stops)"
wait -n "$gw" "$app" || true
