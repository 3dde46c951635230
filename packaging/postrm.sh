#!/bin/sh
# Reloads systemd after removal. The data in /var/lib/hotdesk and the
# hotdesk user are kept (also on purge): they hold the site's database.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
fi
exit 0
