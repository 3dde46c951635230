#!/bin/sh
# Creates the hotdesk system user the unit runs as, then enables and
# (re)starts the service when systemd runs.
set -e
if [ "$1" = configure ]; then
	if ! getent passwd hotdesk >/dev/null; then
		useradd --system --user-group --home-dir /var/lib/hotdesk --no-create-home \
			--shell /usr/sbin/nologin --comment "Hotdesk PBX" hotdesk
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null || true
		systemctl enable hotdesk.service >/dev/null || true
		systemctl restart hotdesk.service || true
	fi
fi
exit 0
