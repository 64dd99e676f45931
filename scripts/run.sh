#!/bin/bash
# `make run`: the demo FastCGI app on 127.0.0.1:9000 behind the host
# gateway on http://127.0.0.1:8080/ (the routes of config/host.routes:
# /app/ to the app, / redirected to /app/). Ctrl-C stops both.
set -euo pipefail

GATEWAY=${1:-build/host/fcgate}
APP=${2:-build/apps/fcgi-demo}
APP_ADDR=127.0.0.1:9000

busy() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }
for a in "$APP_ADDR" 127.0.0.1:8080; do
	if busy "$a"; then
		echo "run: $a is already in use (another make run, or the tests?)" >&2
		exit 1
	fi
done

"$APP" --listen "$APP_ADDR" &
app=$!
"$GATEWAY" &
gw=$!
stop() {
	trap - INT TERM EXIT
	kill -TERM "$gw" "$app" 2>/dev/null || true
	wait "$gw" "$app" 2>/dev/null || true
}
trap stop INT TERM EXIT
echo "run: open http://127.0.0.1:8080/ (Ctrl-C stops)"
wait -n "$gw" "$app" || true
