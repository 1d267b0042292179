/** Report wording in English and Simplified Chinese. Keys are shared; a missing key is a test failure. */
import type { ReportLocale } from './config';

export const MESSAGES = {
  en: {
    title: 'Security report', subject: 'auditkit security report', period: 'Period', previous: 'compared with', generated: 'Generated',
    period_daily: 'Daily', period_weekly: 'Weekly', period_monthly: 'Monthly', period_custom: 'Custom period',
    empty: 'Nothing was recorded in this period: no events and no alerts. If hosts should have reported, check the collectors section.',
    headline: 'At a glance', events: 'Events', commands: 'Commands', hosts: 'Active hosts', users: 'Active users', alerts: 'Alerts',
    critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', vs_previous: 'vs previous period', new: 'new',
    alerts_section: 'Alerts', top_rules: 'Top alert rules', rule: 'Rule', severity: 'Severity', count: 'Count', host: 'Host', top_alert_hosts: 'Hosts with the most alerts',
    no_alerts: 'No alerts in this period.',
    triage_line: 'Open: {open} · handled: {handled} (acknowledged {acknowledged}, closed {closed})',
    dangerous_commands: 'Dangerous commands', when: 'When', who: 'Who', where: 'Where', what: 'What', login_user: 'login', shown_of: 'showing {shown} commands of {total} alerts', seen_by: 'seen by {sources}',
    no_dangerous: 'No dangerous commands were flagged.',
    logins: 'Logins', failed_logins: 'Failed logins', successful_logins: 'Successful logins', source_ip: 'Source IP', accounts_tried: 'Accounts tried', then_succeeded: 'then succeeded',
    failures_by_user: 'Failures by account', user: 'User', new_addresses: 'Successful logins from new addresses', first_seen: 'First seen', no_new_addresses: 'No successful login came from a new address.',
    privilege: 'sudo and su', sudo: 'sudo', su: 'su', failed: 'Failed', no_privilege: 'No sudo or su use.',
    accounts: 'Account and group changes', action: 'Change', target: 'Account', group: 'Group', by: 'By', no_accounts: 'No account or group changes.',
    activity: 'Activity', hosts_col: 'Hosts', top_commands: 'Top commands', top_users: 'Top users', top_hosts: 'Busiest hosts', command: 'Command',
    collectors: 'Collectors', reporting_hosts: 'Hosts with collector heartbeats', event_hosts: 'Hosts with events', silent_hosts: 'Silent hosts (no heartbeat)', last_seen: 'Last heartbeat', all_reporting: 'Every host with events sent collector heartbeats.',
    no_heartbeats: 'No collector heartbeat in this period, although {hosts} hosts sent events (a backfill such as the demo, or collectors with heartbeats off): silence cannot be checked.',
    no_heartbeats_no_events: 'No collector heartbeat and no events in this period.',
    without_heartbeat: 'Hosts with events but no heartbeat: {hosts}.',
    deadlettered_after: '{count} records were dead-lettered after the period ended (dead letters carry the time they were ingested, so they may belong to this period).',
    dropping: 'Collectors that dropped or dead-lettered events', deadlettered: 'Dead-lettered', dropped: 'Dropped', parse_failed: 'Unparsed', lost: 'Lost', reasons: 'Reasons', none_dropping: 'No collector dropped or dead-lettered events in this period (dead letters count by ingest time).',
    posture: 'Host posture', posture_scores: 'Posture score per host (lowest first)', posture_score: 'Score', posture_trend: 'Since the previous period', posture_failed_checks: 'Failed checks',
    posture_no_scans: 'No posture scan ran in this period (collector.posture.enabled, or auditkit posture scan).',
    posture_failing: 'Failing baseline checks, with the fix', posture_no_failing: 'No baseline check fails.',
    posture_regressions: 'Checks that went from pass to fail', posture_no_regressions: 'No check regressed.',
    posture_file_changes: 'Changes to critical files, and who made them', posture_no_file_changes: 'No critical file changed.',
    posture_exposed: 'Newly exposed ports', posture_no_exposed: 'No new port was exposed.',
    posture_detail: 'Detail', posture_check: 'Check', posture_file: 'File', posture_port: 'Port', posture_who_unknown: 'unknown (no audit record)',
    chart_events: 'Events per day', chart_alerts: 'Alerts per day by severity', day: 'Day', csv_note: 'All alerts of the period are attached as CSV.', footer: 'auditkit — who logged in where, and what did they do.',
  },
  'zh-CN': {
    title: '安全报告', subject: 'auditkit 安全报告', period: '时间范围', previous: '对比', generated: '生成时间',
    period_daily: '日报', period_weekly: '周报', period_monthly: '月报', period_custom: '自定义时间段',
    empty: '本时间段内没有任何记录：没有事件，也没有告警。如果主机本应上报，请查看“采集器”一节。',
    headline: '概览', events: '事件', commands: '命令', hosts: '活跃主机', users: '活跃用户', alerts: '告警',
    critical: '严重', high: '高', medium: '中', low: '低', vs_previous: '较上一周期', new: '新增',
    alerts_section: '告警', top_rules: '告警最多的规则', rule: '规则', severity: '级别', count: '次数', host: '主机', top_alert_hosts: '告警最多的主机',
    no_alerts: '本时间段内没有告警。',
    triage_line: '未处理：{open} · 已处理：{handled}（已确认 {acknowledged}，已关闭 {closed}）',
    dangerous_commands: '危险命令', when: '时间', who: '用户', where: '位置', what: '命令', login_user: '登录用户', shown_of: '显示 {shown} 条命令 / 共 {total} 条告警', seen_by: '来源：{sources}',
    no_dangerous: '没有标记为危险的命令。',
    logins: '登录', failed_logins: '登录失败', successful_logins: '登录成功', source_ip: '来源 IP', accounts_tried: '尝试的账号', then_succeeded: '随后登录成功',
    failures_by_user: '按账号统计的失败', user: '用户', new_addresses: '来自新地址的成功登录', first_seen: '首次出现', no_new_addresses: '没有来自新地址的成功登录。',
    privilege: 'sudo 与 su', sudo: 'sudo', su: 'su', failed: '失败', no_privilege: '没有 sudo 或 su 使用记录。',
    accounts: '账号与用户组变更', action: '变更', target: '账号', group: '用户组', by: '操作人', no_accounts: '没有账号或用户组变更。',
    activity: '活动', hosts_col: '主机', top_commands: '最常用命令', top_users: '最活跃用户', top_hosts: '最繁忙主机', command: '命令',
    collectors: '采集器', reporting_hosts: '有采集器心跳的主机', event_hosts: '有事件的主机', silent_hosts: '失联主机（无心跳）', last_seen: '最后心跳', all_reporting: '所有有事件的主机均有采集器心跳。',
    no_heartbeats: '本时间段内没有采集器心跳，但有 {hosts} 台主机上报了事件（例如演示这样的回填，或关闭了心跳的采集器）：无法检查失联。',
    no_heartbeats_no_events: '本时间段内既没有采集器心跳，也没有事件。',
    without_heartbeat: '有事件但没有心跳的主机：{hosts}。',
    deadlettered_after: '本时间段结束后有 {count} 条记录转入死信（死信带的是接收时间，可能属于本时间段）。',
    dropping: '丢弃或转入死信的采集器', deadlettered: '死信', dropped: '丢弃', parse_failed: '解析失败', lost: '丢失', reasons: '原因', none_dropping: '本时间段内没有采集器丢弃事件或产生死信（死信按接收时间统计）。',
    posture: '主机安全基线', posture_scores: '各主机基线得分（从低到高）', posture_score: '得分', posture_trend: '较上一周期', posture_failed_checks: '未通过检查项',
    posture_no_scans: '本时间段内没有运行基线扫描（collector.posture.enabled，或 auditkit posture scan）。',
    posture_failing: '未通过的基线检查及修复方法', posture_no_failing: '所有基线检查均已通过。',
    posture_regressions: '由通过变为未通过的检查项', posture_no_regressions: '没有检查项退化。',
    posture_file_changes: '关键文件变更及操作人', posture_no_file_changes: '没有关键文件被修改。',
    posture_exposed: '新暴露的端口', posture_no_exposed: '没有新暴露的端口。',
    posture_detail: '详情', posture_check: '检查项', posture_file: '文件', posture_port: '端口', posture_who_unknown: '未知（无审计记录）',
    chart_events: '每日事件数', chart_alerts: '每日告警（按级别）', day: '日期', csv_note: '本时间段的全部告警见 CSV 附件。', footer: 'auditkit —— 谁在何处登录，做了什么。',
  },
} as const satisfies Record<ReportLocale, Record<string, string>>;

export type MessageKey = keyof (typeof MESSAGES)['en'];

export function translator(locale: ReportLocale): (key: string, vars?: Readonly<Record<string, string | number>>) => string {
  const table = MESSAGES[locale] as Record<string, string>;
  const fallback = MESSAGES.en as Record<string, string>;
  return (key, vars) => {
    let s = table[key] ?? fallback[key] ?? key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
    return s;
  };
}

export function formatNumber(n: number, locale: ReportLocale): string {
  return new Intl.NumberFormat(locale === 'zh-CN' ? 'zh-CN' : 'en-US').format(n);
}
