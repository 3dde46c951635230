#!/bin/sh
# Stops the service before the binary goes away.
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl disable --now hotdesk.service >/dev/null || true
fi
exit 0
