#!/bin/bash
# A network namespace with a TAP device for the host-lwip board (root only).
#
#   scripts/netns.sh up NAME     namespace NAME, TAP fcg0 in it, 10.0.3.1/24
#                                on the namespace's side of the TAP
#   scripts/netns.sh down NAME   delete the TAP and the namespace
#
# Then, all inside the namespace: the gateway takes 10.0.3.2 on the other
# side of the TAP (lwIP, from Kconfig), FastCGI apps listen on 10.0.3.1,
# and curl reaches the gateway at http://10.0.3.2/:
#
#   ip netns exec NAME build/apps/fcgi-testapp --listen 10.0.3.1:9000 &
#   ip netns exec NAME build/host-lwip/fcgate-lwip --tap fcg0 &
#   ip netns exec NAME curl http://10.0.3.2/
set -euo pipefail

TAP=fcg0
HOST_ADDR=10.0.3.1/24

usage() {
	echo "usage: $0 up|down NAME" >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
ns=$2
if [ "$(id -u)" -ne 0 ]; then
	echo "netns.sh: needs root (network namespaces, /dev/net/tun)" >&2
	exit 1
fi

up() {
	ip netns add "$ns"
	# From here on, a failure leaves nothing behind.
	trap 'ip netns del "$ns" 2>/dev/null || true' ERR
	ip -n "$ns" link set lo up
	ip -n "$ns" tuntap add dev "$TAP" mode tap
	ip -n "$ns" addr add "$HOST_ADDR" dev "$TAP"
	# lwIP speaks IPv4 only: keep the kernel's IPv6 chatter off the TAP.
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null || true
	ip -n "$ns" link set "$TAP" up
	trap - ERR
}

down() {
	# A persistent TAP is not always gone with its namespace: delete it first.
	ip -n "$ns" tuntap del dev "$TAP" mode tap 2>/dev/null || true
	ip netns del "$ns"
}

case "$cmd" in
up) up ;;
down) down ;;
*) usage ;;
esac
