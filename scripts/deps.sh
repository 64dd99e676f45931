#!/bin/bash
# Install the Debian packages fcgate's build and tests need, if missing.
# Installing servers must not start their system services: a policy-rc.d
# that says "no" keeps php-fpm and friends from starting on install.
set -euo pipefail

PKGS=(
	gcc make binutils
	python3-kconfiglib python3-pytest
	libcmocka-dev
	php8.2-fpm php8.2-cli
	fcgiwrap libfcgi-dev
	curl
	clang libclang-rt-14-dev
	qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi
	openssl testssl.sh
	musl-tools
	chromium chromium-driver python3-selenium
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
		|| missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "deps: all installed"; exit 0; }

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
