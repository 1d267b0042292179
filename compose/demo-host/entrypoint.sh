#!/bin/bash
# The demo host: first loads the simulated fleet of `auditkit demo` (the last
# seven days, written as raw audit.log / shell hook / bash history files and sent
# through the collector pipeline, then rules and a report), then runs the
# collector on the Docker host's own audit log when there is one.
set -euo pipefail
cd /opt/auditkit
state=/var/lib/auditkit
mkdir -p "$state"
if [ ! -f "$state/demo-done" ]; then
  start="$(date -u -d '7 days ago' +%Y-%m-%dT00:00:00Z)"
  AUDITKIT_CONFIG=/etc/auditkit/auditkit.yml node bin/auditkit.js demo --start "$start" --dir "$state/demo"
  touch "$state/demo-done"
fi
if [ -r /host/var/log/audit/audit.log ]; then
  exec node bin/auditkit.js collect --config /etc/auditkit/collector.yml
fi
echo "demo-host: no /var/log/audit/audit.log on the Docker host (auditd not installed); the simulated fleet is loaded, the collector is idle"
exec sleep infinity
