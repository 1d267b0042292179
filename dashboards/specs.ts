/**
 * The kit's dashboards, as data. Each answers an analyst's question with the
 * kit's own fields (schema/): who ran what where (commands), who logged in or
 * failed to (auditd authentication), who became someone else (sudo/su, identity
 * changes), what changed (accounts, files), what fired (alerts), and whether the
 * collectors are alive (heartbeats, lag, drops, dead letters).
 *
 * Elastic's auditd dashboards have no host dimension, no login outcomes, no file
 * changes and no privilege-escalation view; every one of those is here.
 */
import { ALL_STREAMS_PATTERN, streamPattern, type Dataset } from '../schema';
import { exists, not, phrase, phrases } from './filters';
import { ID_PREFIX } from './ids';
import { count, maxOf, overTime, terms, uniqueCount } from './lens';
import type { DashboardSpec, DataViewSpec, PanelSpec, SavedSearchSpec } from './saved-object';

function dataView(key: Dataset | 'all', name: string): DataViewSpec {
  return { id: `${ID_PREFIX}${key}`, title: key === 'all' ? ALL_STREAMS_PATTERN : streamPattern(key), name };
}

export const DATA_VIEWS = {
  all: dataView('all', 'auditkit: all streams'),
  commands: dataView('commands', 'auditkit: commands'),
  auditd: dataView('auditd', 'auditkit: auditd'),
  alerts: dataView('alerts', 'auditkit: alerts'),
  agent: dataView('agent', 'auditkit: collectors'),
  deadletter: dataView('deadletter', 'auditkit: dead letters'),
  posture: dataView('posture', 'auditkit: posture checks'),
  fim: dataView('fim', 'auditkit: file integrity'),
  inventory: dataView('inventory', 'auditkit: inventory'),
  sessions: dataView('sessions', 'auditkit: bastion sessions'),
} as const satisfies Record<string, DataViewSpec>;

const DASHBOARD_IDS = {
  overview: `${ID_PREFIX}dashboard-overview`,
  commands: `${ID_PREFIX}dashboard-commands`,
  logins: `${ID_PREFIX}dashboard-logins`,
  alerts: `${ID_PREFIX}dashboard-alerts`,
  collectors: `${ID_PREFIX}dashboard-collectors`,
  posture: `${ID_PREFIX}dashboard-posture`,
} as const;

/** Navigation between the kit's dashboards. Relative links keep the reader in the current space. */
function nav(current: keyof typeof DASHBOARD_IDS): PanelSpec {
  const names: Record<keyof typeof DASHBOARD_IDS, string> = { overview: 'Overview', commands: 'Commands', logins: 'Logins and privilege', alerts: 'Alerts', collectors: 'Collectors', posture: 'Posture' };
  const links = (Object.keys(DASHBOARD_IDS) as Array<keyof typeof DASHBOARD_IDS>).map((k) => (k === current ? `**${names[k]}**` : `[${names[k]}](#/view/${DASHBOARD_IDS[k]})`));
  return { kind: 'markdown', key: 'nav', markdown: `#### auditkit · ${links.join(' · ')}`, grid: { x: 0, y: 0, w: 48, h: 3 } };
}

// Shared filters.
// Login records follow go-libaudit: the account tried (acct) is user.effective.*, user.* is the
// audit uid, unset before a login succeeds; so login panels group by user.effective.name.
const AUTHENTICATION = phrase('event.category', 'authentication');
const LOGIN_FAILED = phrase('event.outcome', 'failure');
const LOGIN_OK = phrase('event.outcome', 'success');
const PRIVILEGE = phrases('process.name', 'sudo', 'su');
const FILE_CHANGE = phrases('event.type', 'change', 'creation', 'deletion');
const FILE_EVENT = phrase('event.category', 'file');
const ACCOUNT_CHANGE = phrase('event.category', 'iam');
const CHECK_FAILED = phrase('event.action', 'check_failed');
const SCORE = phrase('event.action', 'score');
const PORT_EXPOSED = phrase('event.action', 'port_exposed');

// ---------------------------------------------------------------- saved searches

export const SEARCHES = {
  dangerousCommands: {
    id: `${ID_PREFIX}search-dangerous-commands`,
    title: 'auditkit: latest dangerous commands',
    description: 'High and critical alerts raised on a command line: who ran it, where, as whom, and the rule that fired.',
    dataView: DATA_VIEWS.alerts,
    filters: [exists('process.command_line'), phrases('auditkit.alert.severity', 'high', 'critical')],
    columns: ['host.name', 'user.name', 'process.entry_leader.user.name', 'process.command_line', 'rule.name', 'auditkit.alert.severity'],
  },
  bastionSessions: {
    id: `${ID_PREFIX}search-bastion-sessions`,
    title: 'auditkit: bastion sessions',
    description: 'Every ended bastion session (ssh, web terminal, token, batch): who, from where, to which account on which host, how long, why it ended, and its recording. With the portal\'s address configured (bastion.web.public_url or web.listen), the session id links to its replay in the portal.',
    dataView: DATA_VIEWS.sessions,
    filters: [phrase('event.action', 'bastion-session-end')],
    columns: ['auditkit.bastion.session_id', 'auditkit.bastion.user', 'user.name', 'host.name', 'source.ip', 'auditkit.bastion.via', 'event.start', 'event.end', 'event.reason', 'destination.bytes', 'process.command_line'],
  },
  commands: {
    id: `${ID_PREFIX}search-commands`,
    title: 'auditkit: commands',
    description: 'Every interactive command with its session: login user, account it ran as, terminal, client address, directory and exit code.',
    dataView: DATA_VIEWS.commands,
    filters: [],
    columns: ['host.name', 'process.entry_leader.user.name', 'user.name', 'auditkit.tty', 'source.ip', 'process.working_directory', 'process.command_line', 'process.exit_code', 'auditkit.session.id'],
  },
  alerts: {
    id: `${ID_PREFIX}search-alerts`,
    title: 'auditkit: alerts',
    description: 'Alerts with their reason.',
    dataView: DATA_VIEWS.alerts,
    filters: [],
    columns: ['auditkit.alert.severity', 'event.risk_score', 'rule.name', 'host.name', 'user.name', 'event.reason'],
  },
  deadLetters: {
    id: `${ID_PREFIX}search-dead-letters`,
    title: 'auditkit: dead letters',
    description: 'Records a collector could not parse or Elasticsearch refused, with the reason.',
    dataView: DATA_VIEWS.deadletter,
    filters: [],
    columns: ['host.name', 'auditkit.deadletter.stage', 'auditkit.deadletter.reason', 'auditkit.deadletter.status', 'auditkit.deadletter.target', 'auditkit.deadletter.message'],
  },
  failingChecks: {
    id: `${ID_PREFIX}search-failing-checks`,
    title: 'auditkit: failing baseline checks',
    description: 'Baseline check failures with what the check saw and how to fix it (English and Chinese).',
    dataView: DATA_VIEWS.posture,
    filters: [CHECK_FAILED],
    columns: ['host.name', 'auditkit.posture.severity', 'rule.id', 'rule.name', 'auditkit.posture.evidence', 'auditkit.posture.remediation.en', 'auditkit.posture.remediation.zh_cn'],
  },
  fileChanges: {
    id: `${ID_PREFIX}search-file-changes`,
    title: 'auditkit: file changes',
    description: 'Changes to watched files, with who made them (the auditd record joined to the change) and the old and new hashes.',
    dataView: DATA_VIEWS.fim,
    filters: [],
    columns: ['host.name', 'file.path', 'event.action', 'auditkit.fim.changes', 'user.name', 'process.entry_leader.user.name', 'process.executable', 'auditkit.fim.previous.hash.sha256', 'file.hash.sha256'],
  },
} as const satisfies Record<string, SavedSearchSpec>;

// ---------------------------------------------------------------- dashboards

const overview: DashboardSpec = {
  id: DASHBOARD_IDS.overview,
  title: 'auditkit: Overview',
  description: 'Fleet activity at a glance: events by stream, active hosts and users, login outcomes, file changes, alerts by severity and the latest dangerous commands.',
  panels: [
    nav('overview'),
    { kind: 'lens', key: 'activity', title: 'Activity by stream', dataView: DATA_VIEWS.all, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count()], split: terms('event.dataset', 10, { label: 'Stream' }) }, grid: { x: 0, y: 3, w: 32, h: 12 } },
    { kind: 'lens', key: 'hosts', title: 'Active hosts', dataView: DATA_VIEWS.all, chart: { vis: 'metric', metric: uniqueCount('host.name', 'Hosts') }, grid: { x: 32, y: 3, w: 8, h: 6 } },
    { kind: 'lens', key: 'users', title: 'Active users', dataView: DATA_VIEWS.all, chart: { vis: 'metric', metric: uniqueCount('user.name', 'Users') }, grid: { x: 40, y: 3, w: 8, h: 6 } },
    { kind: 'lens', key: 'severity', title: 'Alerts by severity', dataView: DATA_VIEWS.alerts, chart: { vis: 'pie', shape: 'donut', groups: [terms('auditkit.alert.severity', 5, { label: 'Severity' })], metric: count('Alerts') }, grid: { x: 32, y: 9, w: 16, h: 6 } },
    { kind: 'lens', key: 'per-host', title: 'Events per host', dataView: DATA_VIEWS.all, chart: { vis: 'table', rows: [terms('host.name', 20, { label: 'Host' })], metrics: [count(), uniqueCount('user.name', 'Users'), uniqueCount('event.dataset', 'Streams')] }, grid: { x: 0, y: 15, w: 16, h: 12 } },
    { kind: 'lens', key: 'logins', title: 'Logins by outcome', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION], chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Logins')], split: terms('event.outcome', 3, { label: 'Outcome' }) }, grid: { x: 16, y: 15, w: 16, h: 12 } },
    { kind: 'lens', key: 'file-changes', title: 'File changes by host', dataView: DATA_VIEWS.auditd, filters: [FILE_EVENT, FILE_CHANGE], chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Changes')], split: terms('host.name', 10, { label: 'Host' }) }, grid: { x: 32, y: 15, w: 16, h: 12 } },
    { kind: 'search', key: 'dangerous', title: 'Latest dangerous commands', search: SEARCHES.dangerousCommands, grid: { x: 0, y: 27, w: 48, h: 14 } },
  ],
};

const commands: DashboardSpec = {
  id: DASHBOARD_IDS.commands,
  title: 'auditkit: Commands',
  description: 'Interactive shell commands: when, by whom (login user and account), on which host, from which client, and which ones failed.',
  panels: [
    nav('commands'),
    { kind: 'lens', key: 'timeline', title: 'Commands over time by host', dataView: DATA_VIEWS.commands, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Commands')], split: terms('host.name', 10, { label: 'Host' }) }, grid: { x: 0, y: 3, w: 48, h: 10 } },
    { kind: 'lens', key: 'by-user', title: 'Commands by user', dataView: DATA_VIEWS.commands, chart: { vis: 'table', rows: [terms('process.entry_leader.user.name', 20, { label: 'Login user' }), terms('user.name', 10, { label: 'Ran as' })], metrics: [count('Commands'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 0, y: 13, w: 16, h: 12 } },
    { kind: 'lens', key: 'by-host', title: 'Commands by host', dataView: DATA_VIEWS.commands, chart: { vis: 'table', rows: [terms('host.name', 20, { label: 'Host' })], metrics: [count('Commands'), uniqueCount('user.name', 'Users'), uniqueCount('auditkit.session.id', 'Sessions')] }, grid: { x: 16, y: 13, w: 16, h: 12 } },
    { kind: 'lens', key: 'clients', title: 'Client addresses', dataView: DATA_VIEWS.commands, chart: { vis: 'table', rows: [terms('source.ip', 20, { label: 'Client address' })], metrics: [count('Commands'), uniqueCount('process.entry_leader.user.name', 'Login users'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 32, y: 13, w: 16, h: 12 } },
    { kind: 'lens', key: 'failing', title: 'Failing commands', dataView: DATA_VIEWS.commands, filters: [exists('process.exit_code'), not(phrase('process.exit_code', 0))], chart: { vis: 'table', rows: [terms('process.command_line', 20, { label: 'Command line' }), terms('host.name', 5, { label: 'Host' })], metrics: [count('Runs'), maxOf('process.exit_code', 'Exit code (max)')] }, grid: { x: 0, y: 25, w: 24, h: 12 } },
    { kind: 'lens', key: 'directories', title: 'Working directories', dataView: DATA_VIEWS.commands, chart: { vis: 'pie', shape: 'treemap', groups: [terms('process.working_directory', 15, { label: 'Directory' })], metric: count('Commands') }, grid: { x: 24, y: 25, w: 24, h: 12 } },
    { kind: 'search', key: 'table', title: 'Commands', search: SEARCHES.commands, grid: { x: 0, y: 37, w: 48, h: 18 } },
  ],
};

const logins: DashboardSpec = {
  id: DASHBOARD_IDS.logins,
  title: 'auditkit: Logins and privilege',
  description: 'Authentication successes and failures, where failures come from, sudo and su by user, account changes and changed files.',
  panels: [
    nav('logins'),
    { kind: 'lens', key: 'auth-over-time', title: 'Authentication by outcome', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION], chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Attempts')], split: terms('event.outcome', 3, { label: 'Outcome' }) }, grid: { x: 0, y: 3, w: 32, h: 10 } },
    { kind: 'lens', key: 'login-hosts', title: 'Logins per host', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION], chart: { vis: 'table', rows: [terms('host.name', 20, { label: 'Host' }), terms('event.outcome', 3, { label: 'Outcome' })], metrics: [count('Attempts'), uniqueCount('user.effective.name', 'Accounts')] }, grid: { x: 32, y: 3, w: 16, h: 10 } },
    { kind: 'lens', key: 'failed-by-source', title: 'Failed logins by source address', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION, LOGIN_FAILED], chart: { vis: 'table', rows: [terms('source.ip', 20, { label: 'Source address' }), terms('user.effective.name', 5, { label: 'Account' })], metrics: [count('Failures'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 0, y: 13, w: 24, h: 12 } },
    { kind: 'lens', key: 'failed-by-user', title: 'Failed logins by account', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION, LOGIN_FAILED], chart: { vis: 'xy', series: 'bar_stacked', x: terms('user.effective.name', 15, { label: 'Account' }), y: [count('Failures')], split: terms('host.name', 5, { label: 'Host' }) }, grid: { x: 24, y: 13, w: 24, h: 12 } },
    { kind: 'lens', key: 'ok-by-user', title: 'Successful logins by account and source', dataView: DATA_VIEWS.auditd, filters: [AUTHENTICATION, LOGIN_OK], chart: { vis: 'table', rows: [terms('user.effective.name', 20, { label: 'Account' }), terms('source.ip', 5, { label: 'Source address' })], metrics: [count('Logins'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 0, y: 25, w: 24, h: 12 } },
    { kind: 'lens', key: 'privilege-over-time', title: 'sudo and su over time by user', dataView: DATA_VIEWS.auditd, filters: [PRIVILEGE], chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Escalations')], split: terms('user.name', 10, { label: 'User' }) }, grid: { x: 24, y: 25, w: 24, h: 12 } },
    { kind: 'lens', key: 'privilege', title: 'sudo and su by user', dataView: DATA_VIEWS.auditd, filters: [PRIVILEGE], chart: { vis: 'table', rows: [terms('user.name', 20, { label: 'User' }), terms('process.name', 2, { label: 'Via' }), terms('user.effective.name', 5, { label: 'Became' })], metrics: [count('Times'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 0, y: 37, w: 24, h: 12 } },
    { kind: 'lens', key: 'accounts', title: 'Account changes', dataView: DATA_VIEWS.auditd, filters: [ACCOUNT_CHANGE], chart: { vis: 'table', rows: [terms('event.action', 10, { label: 'Change' }), terms('user.target.name', 10, { label: 'Account' }), terms('host.name', 10, { label: 'Host' })], metrics: [count('Changes')] }, grid: { x: 24, y: 37, w: 24, h: 12 } },
    { kind: 'lens', key: 'files', title: 'Changed files', dataView: DATA_VIEWS.auditd, filters: [FILE_EVENT, FILE_CHANGE], chart: { vis: 'table', rows: [terms('file.path', 25, { label: 'File' }), terms('host.name', 5, { label: 'Host' })], metrics: [count('Changes'), uniqueCount('user.name', 'Users')] }, grid: { x: 0, y: 49, w: 48, h: 12 } },
  ],
};

const alerts: DashboardSpec = {
  id: DASHBOARD_IDS.alerts,
  title: 'auditkit: Alerts',
  description: 'Alerts raised by the rules: over time by severity, open vs handled (acknowledged, closed), by rule, by host and user, with their reason.',
  timeFrom: 'now-7d',
  panels: [
    nav('alerts'),
    { kind: 'lens', key: 'over-time', title: 'Alerts over time by severity', dataView: DATA_VIEWS.alerts, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Alerts')], split: terms('auditkit.alert.severity', 4, { label: 'Severity' }) }, grid: { x: 0, y: 3, w: 24, h: 10 } },
    { kind: 'lens', key: 'severity', title: 'Alerts by severity', dataView: DATA_VIEWS.alerts, chart: { vis: 'pie', shape: 'donut', groups: [terms('auditkit.alert.severity', 4, { label: 'Severity' })], metric: count('Alerts') }, grid: { x: 24, y: 3, w: 12, h: 10 } },
    // Triage (`auditkit alerts ack|close`): an alert without a status is open, so the missing bucket is the open one.
    { kind: 'lens', key: 'triage', title: 'Open vs handled (no status = open)', dataView: DATA_VIEWS.alerts, chart: { vis: 'pie', shape: 'donut', groups: [terms('auditkit.alert.status', 3, { label: 'Triage status', missingBucket: true })], metric: count('Alerts') }, grid: { x: 36, y: 3, w: 12, h: 10 } },
    { kind: 'lens', key: 'by-rule', title: 'Alerts by rule', dataView: DATA_VIEWS.alerts, chart: { vis: 'table', rows: [terms('rule.name', 25, { label: 'Rule' }), terms('rule.id', 1, { label: 'Rule id' })], metrics: [count('Alerts'), maxOf('event.risk_score', 'Risk score'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 0, y: 13, w: 24, h: 12 } },
    { kind: 'lens', key: 'by-host', title: 'Alerts by host', dataView: DATA_VIEWS.alerts, chart: { vis: 'xy', series: 'bar_stacked', x: terms('host.name', 15, { label: 'Host' }), y: [count('Alerts')], split: terms('auditkit.alert.severity', 4, { label: 'Severity' }) }, grid: { x: 24, y: 13, w: 24, h: 12 } },
    { kind: 'lens', key: 'by-user', title: 'Alerts by user', dataView: DATA_VIEWS.alerts, chart: { vis: 'table', rows: [terms('user.name', 20, { label: 'User' })], metrics: [count('Alerts'), maxOf('event.severity', 'Severity (max)'), uniqueCount('rule.id', 'Rules')] }, grid: { x: 0, y: 25, w: 48, h: 10 } },
    { kind: 'search', key: 'table', title: 'Alerts with reason', search: SEARCHES.alerts, grid: { x: 0, y: 35, w: 48, h: 16 } },
  ],
};

const collectors: DashboardSpec = {
  id: DASHBOARD_IDS.collectors,
  title: 'auditkit: Collectors',
  description: 'Are the collectors alive and keeping up? Heartbeats, shipping lag, drops and dead letters, and hosts that went silent.',
  panels: [
    nav('collectors'),
    { kind: 'lens', key: 'heartbeats', title: 'Heartbeats by host', dataView: DATA_VIEWS.agent, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Heartbeats')], split: terms('host.name', 20, { label: 'Host' }) }, grid: { x: 0, y: 3, w: 24, h: 10 } },
    { kind: 'lens', key: 'lag', title: 'Shipping lag (ms)', dataView: DATA_VIEWS.agent, chart: { vis: 'xy', series: 'line', x: overTime(), y: [maxOf('auditkit.agent.lag_ms', 'Lag (max ms)')], split: terms('host.name', 10, { label: 'Host' }) }, grid: { x: 24, y: 3, w: 24, h: 10 } },
    { kind: 'lens', key: 'silent', title: 'Last heartbeat per host (silent hosts first)', dataView: DATA_VIEWS.agent, chart: { vis: 'table', rows: [terms('host.name', 100, { label: 'Host', orderBy: 0, direction: 'asc' })], metrics: [maxOf('@timestamp', 'Last heartbeat'), count('Heartbeats')] }, grid: { x: 0, y: 13, w: 16, h: 14 } },
    {
      kind: 'lens', key: 'counters', title: 'Counters per host (since collector start)', dataView: DATA_VIEWS.agent,
      chart: { vis: 'table', rows: [terms('host.name', 50, { label: 'Host' })], metrics: [maxOf('auditkit.agent.sent', 'Sent'), maxOf('auditkit.agent.dropped', 'Dropped'), maxOf('auditkit.agent.deadlettered', 'Dead-lettered'), maxOf('auditkit.agent.failed', 'Unparsable'), maxOf('auditkit.agent.lost', 'Lost at source'), maxOf('auditkit.agent.spool.records', 'Spooled')] },
      grid: { x: 16, y: 13, w: 32, h: 14 },
    },
    { kind: 'lens', key: 'dead-letters', title: 'Dead letters by reason', dataView: DATA_VIEWS.deadletter, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Dead letters')], split: terms('auditkit.deadletter.reason', 10, { label: 'Reason' }) }, grid: { x: 0, y: 27, w: 24, h: 10 } },
    { kind: 'lens', key: 'dead-letter-stage', title: 'Dead letters by stage and host', dataView: DATA_VIEWS.deadletter, chart: { vis: 'table', rows: [terms('auditkit.deadletter.stage', 3, { label: 'Stage' }), terms('host.name', 20, { label: 'Host' })], metrics: [count('Dead letters')] }, grid: { x: 24, y: 27, w: 24, h: 10 } },
    { kind: 'search', key: 'table', title: 'Dead letters', search: SEARCHES.deadLetters, grid: { x: 0, y: 37, w: 48, h: 14 } },
  ],
};

const posture: DashboardSpec = {
  id: DASHBOARD_IDS.posture,
  title: 'auditkit: Posture',
  description: 'How hardened are the hosts? Baseline scores and their trend, failing checks by severity with the fix, changes to watched files with who made them, and exposed ports.',
  panels: [
    nav('posture'),
    { kind: 'lens', key: 'score-trend', title: 'Posture score by host', dataView: DATA_VIEWS.posture, filters: [SCORE], chart: { vis: 'xy', series: 'line', x: overTime(), y: [maxOf('auditkit.posture.score', 'Score')], split: terms('host.name', 10, { label: 'Host' }) }, grid: { x: 0, y: 3, w: 32, h: 10 } },
    { kind: 'lens', key: 'failed-by-severity', title: 'Failed checks by severity', dataView: DATA_VIEWS.posture, filters: [CHECK_FAILED], chart: { vis: 'pie', shape: 'donut', groups: [terms('auditkit.posture.severity', 4, { label: 'Severity' })], metric: count('Failures') }, grid: { x: 32, y: 3, w: 16, h: 10 } },
    { kind: 'lens', key: 'hosts', title: 'Hosts: latest score and failures', dataView: DATA_VIEWS.posture, filters: [SCORE], chart: { vis: 'table', rows: [terms('host.name', 50, { label: 'Host' })], metrics: [maxOf('@timestamp', 'Last scan'), maxOf('auditkit.posture.failed', 'Failed (max)'), count('Scans')] }, grid: { x: 0, y: 13, w: 16, h: 12 } },
    { kind: 'lens', key: 'top-failing', title: 'Top failing checks', dataView: DATA_VIEWS.posture, filters: [CHECK_FAILED], chart: { vis: 'table', rows: [terms('rule.name', 25, { label: 'Check' }), terms('auditkit.posture.severity', 1, { label: 'Severity' })], metrics: [count('Failures'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 16, y: 13, w: 32, h: 12 } },
    { kind: 'lens', key: 'regressions', title: 'Checks that went from pass to fail', dataView: DATA_VIEWS.posture, filters: [phrase('event.action', 'check_regressed')], chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Regressions')], split: terms('host.name', 10, { label: 'Host' }) }, grid: { x: 0, y: 25, w: 24, h: 10 } },
    { kind: 'lens', key: 'exposed', title: 'Exposed ports', dataView: DATA_VIEWS.inventory, filters: [PORT_EXPOSED], chart: { vis: 'table', rows: [terms('host.name', 20, { label: 'Host' }), terms('server.port', 20, { label: 'Port' })], metrics: [count('Times seen'), maxOf('@timestamp', 'Last seen')] }, grid: { x: 24, y: 25, w: 24, h: 10 } },
    { kind: 'lens', key: 'fim-over-time', title: 'File changes by how they were seen', dataView: DATA_VIEWS.fim, chart: { vis: 'xy', series: 'bar_stacked', x: overTime(), y: [count('Changes')], split: terms('auditkit.fim.detected_by', 3, { label: 'Seen by' }) }, grid: { x: 0, y: 35, w: 24, h: 10 } },
    { kind: 'lens', key: 'fim-who', title: 'Who changed watched files', dataView: DATA_VIEWS.fim, chart: { vis: 'table', rows: [terms('file.path', 25, { label: 'File' }), terms('process.entry_leader.user.name', 5, { label: 'Login user' })], metrics: [count('Changes'), uniqueCount('host.name', 'Hosts')] }, grid: { x: 24, y: 35, w: 24, h: 10 } },
    { kind: 'search', key: 'failing', title: 'Failing checks with the fix', search: SEARCHES.failingChecks, grid: { x: 0, y: 45, w: 48, h: 14 } },
    { kind: 'search', key: 'file-changes', title: 'File changes with who made them', search: SEARCHES.fileChanges, grid: { x: 0, y: 59, w: 48, h: 14 } },
  ],
};

export const DASHBOARDS: readonly DashboardSpec[] = [overview, commands, logins, alerts, collectors, posture];
