/**
 * The error catalogue: every code an AuditkitError (or a dead-letter record the
 * kit writes itself) may carry, what it means, the exit code a command ends with
 * when it is thrown, and what the user should do next. One literal table, so an
 * unknown code does not compile (`AuditkitError`'s `code` is `ErrorCode`) and
 * docs/errors.md is generated from it (`auditkit errors`), never kept by hand.
 *
 * Names are stable: scripts and tests match on them. The parsers' own per-line
 * codes (SHELL_*, AUDITD_*, AUDITBEAT_*), which only ever become dead-letter
 * reasons, are documented with their parsers (collectors/shell, collectors/auditd).
 * core/error-codes.test.ts checks that every AK_* literal in library code is here,
 * that every entry here is used, and that explicit exit codes agree with `exit`.
 */
import { ExitCode, type ExitCodeValue } from './exit-codes';

export interface ErrorCodeInfo {
  /**
   * The exit code of a command this error ends (the default of `AuditkitError`'s
   * `exitCode`); null for a code that is only a dead-letter reason: the record is
   * kept in the dead-letter data stream and the collector goes on.
   */
  readonly exit: ExitCodeValue | null;
  /** What happened, in the user's terms. */
  readonly description: string;
  /** What to do next. */
  readonly next: string;
}

export const ERROR_CODES = {
  // ── usage and configuration ───────────────────────────────────────────────
  AK_USAGE: {
    exit: ExitCode.Usage,
    description: 'A command-line argument is missing, out of range or names nothing (e.g. `--hosts 0`, `--from` without `--to`, an unknown `--format`, `--definition` not in reports.definitions, a `--space` that is not a Kibana space id).',
    next: 'Read the message for the argument and the values it accepts, or run the command with `--help`.',
  },
  AK_CONFIG_INVALID: {
    exit: ExitCode.Config,
    description: 'auditkit.yml (or an inventory file) does not fit its schema; every problem is listed with file:line and key path.',
    next: 'Fix each listed problem and run `auditkit validate`; docs/configuration.md lists every key, its type and default.',
  },
  AK_CONFIG_READ: {
    exit: ExitCode.Config,
    description: 'The configuration file given with `--config` (or `$AUDITKIT_CONFIG`) does not exist or cannot be read.',
    next: 'Check the path and its permissions, or create the file (the README\'s configuration section has an example).',
  },
  AK_CONFIG_PERMISSIONS: {
    exit: ExitCode.Config,
    description: 'A configuration file that holds secrets (passwords, API keys, tokens) is readable by group or others, so the kit refuses to read it.',
    next: 'Run the `chmod 600 FILE` the message shows, as the file\'s owner.',
  },
  AK_DURATION_INVALID: {
    exit: ExitCode.Usage,
    description: 'A duration (e.g. `--since`) is not a number followed by a unit.',
    next: 'Write it like 500ms, 30s, 5m, 1h or 14d.',
  },

  // ── Elasticsearch ─────────────────────────────────────────────────────────
  AK_ES_NO_URL: {
    exit: ExitCode.Config,
    description: 'No Elasticsearch is configured and no local development node is running.',
    next: 'Set elasticsearch.url in auditkit.yml (or `AUDITKIT_ELASTICSEARCH_URL`, or `--es-url`), or start a local node with `auditkit dev es start`.',
  },
  AK_ES_CA: {
    exit: ExitCode.Config,
    description: 'The CA file named by elasticsearch.ca_file cannot be read.',
    next: 'Check the path and that the user running auditkit can read it.',
  },
  AK_ES_UNREACHABLE: {
    exit: ExitCode.Unavailable,
    description: 'Elasticsearch cannot be reached: connection refused, the host name does not resolve, or the connection failed.',
    next: 'Check elasticsearch.url and that the cluster is up and reachable from this host; for a local node run `auditkit dev es start`.',
  },
  AK_ES_TIMEOUT: {
    exit: ExitCode.Unavailable,
    description: 'Elasticsearch did not answer a request in time.',
    next: 'Check the network and the cluster\'s health, or raise elasticsearch.request_timeout_ms.',
  },
  AK_ES_TLS: {
    exit: ExitCode.Unavailable,
    description: 'TLS verification of the Elasticsearch certificate failed (unknown CA, self-signed, wrong host name).',
    next: 'Set elasticsearch.ca_file or elasticsearch.ca_fingerprint to the cluster\'s CA.',
  },
  AK_ES_AUTH: {
    exit: ExitCode.Auth,
    description: 'Elasticsearch refused the credentials (HTTP 401).',
    next: 'Check elasticsearch.api_key, or elasticsearch.username and password; an expired or invalidated API key needs a new one (`auditkit setup api-key`).',
  },
  AK_ES_FORBIDDEN: {
    exit: ExitCode.Auth,
    description: 'Elasticsearch accepted the credentials but denied the request (HTTP 403): the key or user lacks a privilege this command needs.',
    next: 'Use a key with the right role: `auditkit setup api-key --role admin` (setup), `reader` (reports, alerts) or `collector` (collect).',
  },
  AK_ES_RESPONSE: {
    exit: ExitCode.Failure,
    description: 'Elasticsearch answered a request with an error status other than 401 or 403; the message carries the status and reason.',
    next: 'Read the reason; check the cluster\'s health and logs, and that `auditkit setup elasticsearch` has been run.',
  },
  AK_ES_ERROR: {
    exit: ExitCode.Failure,
    description: 'A request to Elasticsearch failed in a way the kit does not recognise.',
    next: 'Read the message; run with `--verbose` for the cause and its stack.',
  },
  AK_ES_NO_SECURITY: {
    exit: ExitCode.Unavailable,
    description: 'The cluster has security turned off, so API keys cannot be created.',
    next: 'Turn on xpack.security, or run without API keys on a trusted network.',
  },
  AK_ES_API_KEY: {
    exit: ExitCode.Unavailable,
    description: 'The cluster refused to create an API key (for instance it cannot store keys: no .security index).',
    next: 'Use a file-realm role instead: `auditkit setup api-key --role ROLE --print-role` prints its descriptor for roles.yml.',
  },
  AK_ES_FIELD_TYPE: {
    exit: ExitCode.Unavailable,
    description: 'The cluster lacks a field type the kit\'s mappings use, and the kit has no fallback type for it.',
    next: 'Use an Elasticsearch of a version and distribution the kit supports (see the README), or report the field and type the message names.',
  },
  AK_SETUP_MODE_SWITCH: {
    exit: ExitCode.Config,
    description: '`auditkit setup elasticsearch` was asked for index mode on a cluster that already has auditkit data streams.',
    next: 'Keep elasticsearch.mode: data_stream (or auto on a cluster with data streams).',
  },

  // ── local development node (`auditkit dev es`) ────────────────────────────
  AK_ES_NO_JDK: {
    exit: ExitCode.Unavailable,
    description: 'No JDK new enough for this Elasticsearch version was found (ES_JAVA_HOME, JAVA_HOME, /usr/lib/jvm).',
    next: 'Install one (the message names the package, e.g. `apt-get install openjdk-21-jdk-headless`) or point ES_JAVA_HOME at it.',
  },
  AK_ES_FETCH: {
    exit: ExitCode.Unavailable,
    description: 'The Elasticsearch distribution could not be fetched: mvn failed or is missing, the download failed, or its checksum did not match.',
    next: 'Check network access to Maven Central, or set AUDITKIT_MAVEN_REPO to a mirror.',
  },
  AK_ES_UNPACK: {
    exit: ExitCode.Unavailable,
    description: 'The downloaded Elasticsearch zip could not be unpacked.',
    next: 'Install unzip (`apt-get install unzip`), or remove the cached zip the message names if it is damaged, and run again.',
  },
  AK_ES_USER: {
    exit: ExitCode.Unavailable,
    description: 'Elasticsearch refuses to run as root, and creating the unprivileged user to run it failed.',
    next: 'Create the user the message names yourself, or run `auditkit dev es start` as an ordinary user.',
  },
  AK_ES_PATH: {
    exit: ExitCode.Unavailable,
    description: 'A directory above the node\'s files is not traversable by the user Elasticsearch runs as.',
    next: 'Set AUDITKIT_CACHE_DIR to a directory outside it (e.g. /var/cache/auditkit).',
  },
  AK_ES_KEYSTORE: {
    exit: ExitCode.Unavailable,
    description: 'elasticsearch-keystore could not set the bootstrap password of the local node.',
    next: 'Read the tool\'s output in the message; remove the node\'s directory and start again.',
  },
  AK_ES_USERS: {
    exit: ExitCode.Unavailable,
    description: 'elasticsearch-users could not add a file-realm user to the local node.',
    next: 'Read the tool\'s output in the message; remove the node\'s directory and start again.',
  },
  AK_ES_START: {
    exit: ExitCode.Unavailable,
    description: 'The local Elasticsearch exited during start, or did not answer its health check in time; the message ends with its log.',
    next: 'Read the log lines (memory, vm.max_map_count, a port in use are the usual causes) and start again.',
  },

  // ── Kibana and dashboards ─────────────────────────────────────────────────
  AK_KIBANA_NO_URL: {
    exit: ExitCode.Config,
    description: '`setup kibana` or `dashboards import` ran without a Kibana configured.',
    next: 'Set kibana.url in auditkit.yml (or `AUDITKIT_KIBANA_URL`); `auditkit dashboards export --out FILE.ndjson` writes the objects for a manual import.',
  },
  AK_KIBANA_CA: {
    exit: ExitCode.Config,
    description: 'The CA file named by kibana.ca_file cannot be read.',
    next: 'Check the path and that the user running auditkit can read it.',
  },
  AK_KIBANA_UNREACHABLE: {
    exit: ExitCode.Unavailable,
    description: 'Kibana cannot be reached: connection refused or reset, or its host name does not resolve.',
    next: 'Check that Kibana is running and kibana.url is right (with the compose stack: http://localhost:5601).',
  },
  AK_KIBANA_TIMEOUT: {
    exit: ExitCode.Unavailable,
    description: 'Kibana did not answer a request in time.',
    next: 'Check the network and Kibana\'s health, or raise kibana.request_timeout_ms.',
  },
  AK_KIBANA_TLS: {
    exit: ExitCode.Unavailable,
    description: 'TLS verification of Kibana\'s certificate failed.',
    next: 'Set kibana.ca_file to the CA that signed Kibana\'s certificate.',
  },
  AK_KIBANA_NOT_READY: {
    exit: ExitCode.Unavailable,
    description: 'Kibana reports its overall status as unavailable or critical (often: its Elasticsearch is down).',
    next: 'Wait until GET /api/status says available, then run again.',
  },
  AK_KIBANA_VERSION: {
    exit: ExitCode.Unavailable,
    description: 'Kibana is older than the version the kit\'s dashboards are written for, more than one major newer, reports no version number, or the file holds objects newer than Kibana.',
    next: 'Upgrade Kibana (or use an auditkit release made for its major); for a file, export it from a Kibana of the target\'s version or older.',
  },
  AK_KIBANA_AUTH: {
    exit: ExitCode.Auth,
    description: 'Kibana refused the credentials (HTTP 401).',
    next: 'Check kibana.api_key, or kibana.username and password.',
  },
  AK_KIBANA_FORBIDDEN: {
    exit: ExitCode.Auth,
    description: 'Kibana denied the request (HTTP 403).',
    next: 'Give the user or key the "Saved Objects Management" and "Dashboard" privileges (all) in the target space.',
  },
  AK_KIBANA_STATUS: {
    exit: ExitCode.Auth,
    description: 'Kibana did not report its version in GET /api/status (anonymous access gets a redacted status).',
    next: 'Configure kibana.api_key or kibana.username and password.',
  },
  AK_KIBANA_RESPONSE: {
    exit: ExitCode.Failure,
    description: 'Kibana answered with an unexpected status, or with something that is not JSON.',
    next: 'Check that kibana.url is Kibana\'s base URL (not Elasticsearch, not a proxy\'s login page), and read Kibana\'s log.',
  },
  AK_KIBANA_SPACE: {
    exit: ExitCode.Config,
    description: 'The Kibana space to import into does not exist.',
    next: 'Create it in Stack Management → Spaces (or POST /api/spaces/space), or pass another `--space`.',
  },
  AK_KIBANA_IMPORT: {
    exit: ExitCode.Failure,
    description: 'Kibana refused some objects of the import (each listed with its error and missing references), or the whole import as too large (413).',
    next: 'Fix the listed objects (import what they reference first); for 413 raise savedObjects.maxImportPayloadBytes in kibana.yml.',
  },
  AK_KIBANA_MISSING_REFERENCES: {
    exit: ExitCode.Failure,
    description: 'After the import, Kibana reports references that point at objects it does not have.',
    next: 'Import the objects they point to (data views first), then run again.',
  },
  AK_KIBANA_READBACK: {
    exit: ExitCode.Failure,
    description: 'Kibana reported the import a success, but reading the objects back shows some are missing (or its export could not be checked).',
    next: 'Look at Kibana\'s log for the failed saved objects and run the import again.',
  },
  AK_DASHBOARDS_READ: {
    exit: ExitCode.Config,
    description: 'The NDJSON file given to `dashboards import` does not exist or cannot be read.',
    next: 'Check the path; `auditkit dashboards export --out FILE.ndjson` makes one.',
  },
  AK_DASHBOARDS_FILE: {
    exit: ExitCode.Config,
    description: 'The file given to `dashboards import` is not a saved-objects NDJSON export (problems listed with file:line), or holds no objects.',
    next: 'Export the objects again from Kibana (Stack Management → Saved objects → Export) or with `auditkit dashboards export`.',
  },
  AK_DASHBOARDS_WRITE: {
    exit: ExitCode.Config,
    description: 'The export file given with `--out` cannot be written.',
    next: 'Check that its directory exists and is writable.',
  },

  // ── collector ─────────────────────────────────────────────────────────────
  AK_COLLECT_NO_INPUTS: {
    exit: ExitCode.Config,
    description: 'The configuration has no collector.inputs, so the collector has nothing to read.',
    next: 'Add at least one input (e.g. path: /var/log/audit/audit.log, format: auditd); the message lists the formats.',
  },
  AK_SPOOL_DIR: {
    exit: ExitCode.Config,
    description: 'The collector cannot create its spool directory under collector.state_dir.',
    next: 'Check collector.state_dir and its permissions for the user the collector runs as.',
  },
  AK_INGEST_FILE: {
    exit: ExitCode.Config,
    description: 'A file given to `auditkit ingest` cannot be read or is not a regular file.',
    next: 'Check the path and its permissions.',
  },
  AK_FORMAT_UNKNOWN: {
    exit: ExitCode.Usage,
    description: 'No parser recognises the file\'s format: thrown by `auditkit ingest`; in the collector (format auto) the lines become dead letters with this reason.',
    next: 'Pass `--format` to ingest, or set the input\'s format in collector.inputs.',
  },
  AK_LINE_TOO_LONG: {
    exit: null,
    description: 'Dead-letter reason: a line was longer than the input\'s max_line_bytes; its first bytes are kept in the dead letter.',
    next: 'Find what writes such lines; raise the input\'s max_line_bytes if they are legitimate.',
  },
  AK_NDJSON_NOT_OBJECT: {
    exit: null,
    description: 'Dead-letter reason: an ndjson input line is not a JSON object.',
    next: 'Check what writes the file: the ndjson format takes one ECS JSON object per line.',
  },
  AK_NDJSON_SYNTAX: {
    exit: null,
    description: 'Dead-letter reason: an ndjson input line is not valid JSON (often a line cut short).',
    next: 'Check what writes the file and whether lines are truncated.',
  },
  AK_NDJSON_INVALID: {
    exit: null,
    description: 'Dead-letter reason: an ndjson input line is a JSON object but not a valid ECS event; the first problems are in the message.',
    next: 'Fix the producer so its events fit ECS (field types, @timestamp).',
  },
  AK_RECORD_TOO_DEEP: {
    exit: null,
    description: 'Dead-letter reason: a JSON record (ndjson, Auditbeat, hook journal) nests arrays/objects deeper than 32 levels; it is dead-lettered unparsed, so it cannot overflow the stack.',
    next: 'Find what writes such records: no format the kit reads nests that deep legitimately; a local user sending it is probing the collector.',
  },
  AK_PARSER_FAILED: {
    exit: null,
    description: 'Dead-letter reason: a parser threw on a record (a bug on unexpected input); the record is dead-lettered and the stream goes on.',
    next: 'Report the dead letter\'s original text with the kit\'s version.',
  },
  AK_ENCODE_FAILED: {
    exit: null,
    description: 'Dead-letter reason: a parsed event could not be serialised for Elasticsearch (e.g. nesting too deep); it is dead-lettered and the checkpoint moves on.',
    next: 'Report the source record with the kit\'s version.',
  },
  AK_JOURNAL_FULL: {
    exit: null,
    description: 'A listener journal (shell hook, OMAudit) holds as many unread bytes as collector.listeners.max_backlog_bytes allows (the reader waits for the spool, usually because Elasticsearch is down): senders are answered RETRY and fall back (the hook to syslog) until it drains.',
    next: 'Bring Elasticsearch back (or raise collector.spool.max_bytes); the hook\'s syslog fallback records are read back with an input of format hook.',
  },
  AK_LISTENER_EXPOSED: {
    exit: ExitCode.Config,
    description: 'A listener is configured to accept records from other hosts where it cannot check them: the shell hook listener off loopback (sender uid checks need the local socket table), or the OMAudit listener off loopback without a token. Reported by `validate` (as AK_CONFIG_INVALID with this name in the message) and refused at start.',
    next: 'Keep collector.listeners.hook.host on 127.0.0.1 (one collector per host); give the OMAudit listener a token or keep it on loopback.',
  },
  SHELL_HOOK_LISTEN: {
    exit: ExitCode.Failure,
    description: 'The collector cannot listen for the shell hook on its port (in use, or a privileged port without the right).',
    next: 'Run the collector as root or with CAP_NET_BIND_SERVICE, or stop what uses the port (collector.listeners.hook.port).',
  },
  SHELL_OMAUDIT_LISTEN: {
    exit: ExitCode.Failure,
    description: 'The collector cannot listen for OMAudit agents on its port.',
    next: 'Choose another collector.listeners.omaudit.port, or stop what uses it.',
  },

  // ── rules ─────────────────────────────────────────────────────────────────
  AK_RULE_INVALID: {
    exit: ExitCode.Config,
    description: 'A rule file has problems (every one listed with file:line:col and key path): schema, bad regex or CIDR, failing `tests:`, duplicate ids.',
    next: 'Fix each listed problem and run `auditkit rules validate`.',
  },
  AK_RULE_READ: {
    exit: ExitCode.Config,
    description: 'A rule file or rules path cannot be read or does not exist.',
    next: 'Check rules.paths (or the paths given on the command line) and their permissions.',
  },
  AK_RULE_ALERT_NOT_FOUND: {
    exit: ExitCode.Failure,
    description: '`alerts ack|close` was given an alert id that no alert of the namespace has; the alerts it found were updated.',
    next: 'Copy the id from `auditkit alerts list --json` (event.id) and check elasticsearch.namespace.',
  },
  AK_RULES_STATE: {
    exit: ExitCode.Unavailable,
    description: 'The detection service cannot read or write its checkpoints and lease (index auditkit-detect-state): the cluster is away, the index template is missing, or the key lacks the privileges (exit 5 then).',
    next: 'Run `auditkit setup elasticsearch` once (it provisions the state index template); give the service an admin key or `auditkit setup api-key --role detector`.',
  },
  AK_RULES_EVENTS: {
    exit: ExitCode.Usage,
    description: 'The events file given to `rules test` does not exist.',
    next: 'Pass a JSONL file of ECS events (one object per line), or - for stdin.',
  },

  // ── reports and mail ──────────────────────────────────────────────────────
  AK_REPORT_TIME: {
    exit: ExitCode.Usage,
    description: 'A `--from`/`--to` time cannot be read.',
    next: 'Use ISO 8601 (2026-11-15, 2026-11-15T08:00, 2026-11-15T08:00:00Z) or a relative time like now-7d.',
  },
  AK_REPORT_WINDOW: {
    exit: ExitCode.Usage,
    description: 'The report window is empty or reversed: `--from` is not before `--to`.',
    next: 'Swap or correct the two times.',
  },
  AK_REPORT_NO_DEFINITIONS: {
    exit: ExitCode.Config,
    description: '`report schedule` found no report definitions to schedule.',
    next: 'Add reports.definitions (name, cron, recipients) to auditkit.yml.',
  },
  AK_REPORT_CHART: {
    exit: ExitCode.Failure,
    description: 'Vega could not render the report\'s charts.',
    next: 'Run with `--verbose` for the cause; check that the kit\'s installed files (reports/assets) are complete.',
  },
  AK_SMTP_CONFIG: {
    exit: ExitCode.Config,
    description: 'Mail is needed (a scheduled report, `--send`, alert e-mail) but smtp.host is not set.',
    next: 'Add an smtp: section to auditkit.yml (host, port, username, password, from).',
  },
  AK_SMTP_AUTH: {
    exit: ExitCode.Auth,
    description: 'The SMTP server refused the credentials.',
    next: 'Check smtp.username and smtp.password.',
  },
  AK_SMTP_SEND: {
    exit: ExitCode.Unavailable,
    description: 'The mail could not be sent: the server is unreachable after the retries, or it refused the message.',
    next: 'Check that the server is reachable (smtp.host, smtp.port, TLS), and smtp.from and the recipients.',
  },

  // ── fleet and deploy ──────────────────────────────────────────────────────
  AK_DEPLOY_INVENTORY: {
    exit: ExitCode.Config,
    description: 'The inventory file given with `--inventory` cannot be read.',
    next: 'Check the `--inventory` path and its permissions.',
  },
  AK_DEPLOY_NO_HOSTS: {
    exit: ExitCode.Config,
    description: 'The inventory has no hosts.',
    next: 'Add them under inventory.hosts (in auditkit.yml or the `--inventory` file).',
  },
  AK_DEPLOY_SELECTION: {
    exit: ExitCode.Usage,
    description: '`--group` or `--host` names no group or host of the inventory.',
    next: 'Use a name the message lists, or add it to the inventory.',
  },
  AK_DEPLOY_KNOWN_HOSTS: {
    exit: ExitCode.Config,
    description: 'The known_hosts file exists but cannot be read.',
    next: 'Check its path and permissions.',
  },
  AK_DEPLOY_HOST_KEY: {
    exit: ExitCode.Auth,
    description: 'A host\'s SSH key is not in known_hosts (strict checking), has changed, or is revoked; the kit refuses to connect.',
    next: 'Verify the key out of band; add it (`ssh-keyscan`) or run with `--accept-new`; for a changed key of a reinstalled host remove the old line (`ssh-keygen -R`).',
  },
  AK_DEPLOY_AUTH: {
    exit: ExitCode.Auth,
    description: 'SSH authentication was refused, the key file cannot be read, or the environment variable named by password_env / sudo_password_env is not set.',
    next: 'Check the host\'s user, key, agent or password_env in the inventory, and export the variables it names.',
  },
  AK_DEPLOY_UNREACHABLE: {
    exit: ExitCode.Unavailable,
    description: 'The TCP connection or the SSH handshake to a host failed or timed out.',
    next: 'Check the host\'s address and port in the inventory and that sshd is reachable from here.',
  },
  AK_DEPLOY_UNSUPPORTED: {
    exit: ExitCode.Failure,
    description: 'The host is not Linux, or its CPU architecture differs from the packaged Node runtime\'s.',
    next: 'Deploy only to Linux hosts; for another architecture, deploy from a machine of that architecture.',
  },
  AK_DEPLOY_PRIVILEGES: {
    exit: ExitCode.Auth,
    description: 'The login cannot become root: sudo asks for a password and none is set, the sudo password is wrong, no sudoers rule, no sudo, or sudo turned off.',
    next: 'Log in as root, or set sudo: true with sudo_password_env (or password_env) for the host; the message says which case it is.',
  },
  AK_DEPLOY_REMOTE: {
    exit: ExitCode.Failure,
    description: 'A command on the host failed (with its exit status and stderr), or could not be started.',
    next: 'Read the remote stderr in the message; a failed install is rolled back, and the message says whether the rollback completed.',
  },
  AK_DEPLOY_UPLOAD: {
    exit: ExitCode.Failure,
    description: 'Uploading a file to the host over SFTP failed.',
    next: 'Check the host\'s free space in /tmp and that SFTP is enabled in its sshd.',
  },

  // ── bastion ───────────────────────────────────────────────────────────────
  AK_BASTION_USAGE: {
    exit: ExitCode.Usage,
    description: 'A `bastion` command got a bad value: a user, group or account name, a CIDR, a login time window, an ISO time, a password that is too short, or a missing argument.',
    next: 'Read the message for the value and the form it expects (`auditkit bastion --help`).',
  },
  AK_BASTION_EXISTS: {
    exit: ExitCode.Usage,
    description: 'A bastion user with that name exists already.',
    next: 'Change it with `auditkit bastion passwd` or `auditkit bastion user disable`, or pick another name.',
  },
  AK_BASTION_NOT_FOUND: {
    exit: ExitCode.Usage,
    description: 'A bastion user, grant, live session, recording or inventory host/group named on the command line does not exist.',
    next: '`auditkit bastion user list` lists users and grants, `auditkit bastion sessions list` sessions; hosts and groups come from the inventory.',
  },
  AK_BASTION_STATE: {
    exit: ExitCode.Unavailable,
    description: 'The bastion\'s users and grants cannot be read or changed: the state index in Elasticsearch is unreachable (and, at start, there is no local cache yet), or a change kept conflicting.',
    next: 'Check Elasticsearch (`auditkit setup` target, credentials with the bastion or admin role) and run again; a running bastion keeps serving known users from its cache meanwhile.',
  },
  AK_BASTION_STATE_CACHE: {
    exit: ExitCode.Config,
    description: 'The bastion\'s local state cache (<state_dir>/state-cache.json) cannot be read or is not JSON.',
    next: 'Fix its permissions (mode 600, owned by the bastion\'s user), or remove it: it is rebuilt from Elasticsearch at the next start.',
  },
  AK_BASTION_HOST_KEY: {
    exit: ExitCode.Config,
    description: 'The bastion\'s own SSH host key (bastion.host_key) is missing or is not a private key.',
    next: 'Create it with `ssh-keygen -t ed25519 -N "" -f FILE`, or leave bastion.host_key unset to have one generated under bastion.state_dir.',
  },
  AK_BASTION_ACCOUNT: {
    exit: ExitCode.Config,
    description: 'A grant names a system account the bastion has no credentials for, or whose password variable is not set.',
    next: 'Add bastion.accounts.<account> with a key file (mode 600), a password_file or a password_env that is set in the bastion\'s environment.',
  },
  AK_DEPLOY_START: {
    exit: ExitCode.Failure,
    description: 'The collector exited right after it was started on the host; the message carries the end of its log.',
    next: 'Read the log lines; fix the host\'s collector settings in the inventory and deploy again.',
  },
  AK_DEPLOY_NO_HEARTBEAT: {
    exit: ExitCode.Failure,
    description: 'The collector started, but no heartbeat from the host reached Elasticsearch within the timeout.',
    next: 'Check the collector log (journalctl -u auditkit-collector, or the log directory the message names) and that the host reaches Elasticsearch.',
  },
  AK_DEPLOY_FAILED: {
    exit: ExitCode.Failure,
    description: 'Deploying to a host failed for a reason without a more precise code.',
    next: 'Read the message; run with `--verbose` for the cause.',
  },
  AK_DEPLOY_PACKAGE: {
    exit: ExitCode.Failure,
    description: 'esbuild could not bundle the collector for the deploy package.',
    next: 'Run `npm run build` and check that the kit\'s installed files are complete.',
  },

  // ── demo ──────────────────────────────────────────────────────────────────
  AK_DEMO_INGEST: {
    exit: ExitCode.Failure,
    description: 'The demo\'s ingest left records unsent in the spool.',
    next: 'Check that Elasticsearch is healthy (`auditkit dev es status` or GET /_cluster/health) and run the demo again.',
  },

  // ── posture ───────────────────────────────────────────────────────────────
  AK_POLICY_INVALID: {
    exit: ExitCode.Config,
    description: 'A baseline policy file has problems (every one listed with file:line:col and key path): schema, unknown keys, bad regex, a test with zero or two kinds, duplicate ids, YAML syntax or an alias bomb.',
    next: 'Fix each listed problem; the format is in collectors/posture/README.md, "Baseline checks".',
  },
  AK_POLICY_READ: {
    exit: ExitCode.Config,
    description: 'A baseline policy file or directory cannot be read or does not exist.',
    next: 'Check the policy paths and their permissions.',
  },
  AK_BASTION_WEB_TLS: {
    exit: ExitCode.Config,
    description: 'The bastion web portal cannot use its TLS certificate or key (missing, unreadable, not PEM, only one of the two given, or the key readable by others).',
    next: 'Give both bastion.web.cert and bastion.web.key (key mode 600), or neither to use the certificate generated into state_dir.',
  },
  AK_BASTION_TOKEN: {
    exit: ExitCode.Usage,
    description: 'A one-time terminal token cannot be issued: the user has no grant on that host (and account), or the lifetime is out of range.',
    next: 'Check `auditkit bastion user list` for the grants; --ttl between 10s and 7d.',
  },
  AK_BASTION_TASK: {
    exit: ExitCode.Usage,
    description: 'A batch task cannot run or be shown: no permitted host in the selection, an empty command, or an unknown task id.',
    next: 'Check the user\'s grants (`auditkit bastion user list`), the group name, and the task id printed by `auditkit bastion exec`.',
  },
  AK_BASTION_NOT_SERVING: {
    exit: ExitCode.Unavailable,
    description: 'No bastion is serving on this machine: `auditkit bastion exec` found nothing listening on the bastion\'s control socket (<state_dir>/control.sock).',
    next: 'Start it (`auditkit bastion serve`, or its systemd unit) with the same auditkit.yml (bastion.state_dir), then run the command again.',
  },
  AK_BASTION_RECORDING: {
    exit: ExitCode.Failure,
    description: 'A session recording (<recordings>/<day>/<session>.cast.gz) has no asciicast v2 header: it is empty (the session ended before its first output) or damaged.',
    next: 'The session\'s commands are still in the bastion\'s session and command documents in Elasticsearch; a damaged file can be inspected with `zcat FILE | head`.',
  },
  AK_BASTION_WEB_OFF: {
    exit: ExitCode.Config,
    description: 'A one-time terminal token was asked for, but the bastion web portal is off (neither bastion.web.listen nor bastion.web.public_url is set), so there is no page the link could open.',
    next: 'Set bastion.web.listen (and bastion.web.public_url if users reach the portal by another name) and restart the bastion.',
  },
  AK_BASTION_GUARD_POLICY: {
    exit: ExitCode.Config,
    description: 'bastion.guard names rule ids that are not loaded, so the policy would not do what it says.',
    next: 'Fix or remove the listed ids (auditkit rules list shows the loaded ones).',
  },
  AK_POSTURE_SHIP: {
    exit: ExitCode.Failure,
    description: 'posture scan: Elasticsearch refused some of the posture, inventory or file-integrity documents (they are dead-lettered with the reason).',
    next: 'Look in logs-auditkit.deadletter-* for the reason; run `auditkit setup elasticsearch` if the templates are missing.',
  },
  AK_POSTURE_SCAN_TOO_LARGE: {
    exit: ExitCode.Usage,
    description: 'The network exposure scan would make more connection attempts than its bound allows.',
    next: 'Scan fewer hosts or ports (--host/--group, collector.posture.exposure ports) or raise the bound deliberately.',
  },
  AK_POSTURE_SCAN_POLICY: {
    exit: ExitCode.Config,
    description: "An inventory host's collector.posture.exposure settings are invalid.",
    next: 'Fix the listed keys of that host in inventory: (auditkit validate shows every problem).',
  },
  // ── internal ──────────────────────────────────────────────────────────────
  AK_INTERNAL: {
    exit: ExitCode.Internal,
    description: 'An internal check failed, or an error the kit does not know ended the command: a bug in auditkit.',
    next: 'Run again with `--verbose` and report the message and stack trace.',
  },
} as const satisfies Readonly<Record<string, ErrorCodeInfo>>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}
