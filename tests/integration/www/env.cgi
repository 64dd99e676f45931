#!/bin/sh
# CGI script run by fcgiwrap: prints selected meta-variables as NAME=VALUE
# lines, then the length and sha256 of the request body read from stdin.
# "?big=N" instead answers N bytes of a repeating pattern (no length).
case "$QUERY_STRING" in
big=*)
	n=${QUERY_STRING#big=}
	printf 'Content-Type: application/octet-stream\r\n\r\n'
	yes 0123456789abcdef | head -c "$n"
	exit 0
	;;
esac
printf 'Content-Type: text/plain\r\n'
printf 'X-Cgi: fcgiwrap\r\n'
printf '\r\n'
for v in REQUEST_METHOD QUERY_STRING REQUEST_URI SCRIPT_NAME PATH_INFO \
	SCRIPT_FILENAME DOCUMENT_ROOT GATEWAY_INTERFACE SERVER_PROTOCOL \
	CONTENT_LENGTH CONTENT_TYPE HTTP_X_TEST HTTP_HOST; do
	eval "val=\${$v-}"
	printf '%s=%s\n' "$v" "$val"
done
if [ -n "${HTTP_PROXY+set}" ]; then
	printf 'HTTP_PROXY=%s\n' "$HTTP_PROXY"
fi
body=$(mktemp)
cat > "$body"
printf 'BODY_LENGTH=%s\n' "$(wc -c < "$body")"
printf 'BODY_SHA256=%s\n' "$(sha256sum < "$body" | cut -d' ' -f1)"
rm -f "$body"
