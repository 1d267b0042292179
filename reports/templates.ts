/**
 * Handlebars templates. HTML mail rules: table layout, inline styles only (Gmail
 * and Outlook drop <style> blocks and ignore flex/grid), fixed 640 px width,
 * images with width/height/alt, no scripts. The text template is the
 * multipart/alternative plain part.
 */
import { POSTURE_HTML, POSTURE_TEXT } from './posture';
export const HTML_TEMPLATE = `<!DOCTYPE html>
<html lang="{{lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{title}}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:640px;background:#ffffff;border:1px solid #e5e7eb;font-family:Arial,'Microsoft YaHei','PingFang SC',sans-serif;font-size:13px;color:#111827;">
<tr><td style="background:#111827;color:#ffffff;padding:16px 20px;">
  <div style="font-size:20px;font-weight:bold;">{{title}}</div>
  <div style="font-size:12px;color:#d1d5db;padding-top:4px;">{{periodLabel}}: {{periodText}}</div>
  <div style="font-size:11px;color:#9ca3af;padding-top:2px;">{{t.previous}} {{previousText}} · {{t.generated}} {{generatedText}}</div>
</td></tr>
{{#if empty}}
<tr><td style="padding:20px;"><p style="margin:0;font-size:14px;">{{t.empty}}</p></td></tr>
{{/if}}
{{#each sections}}
{{#if (eq this "headline")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.headline}}</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
{{#each ../headline}}<td width="20%" valign="top" style="padding:8px;border:1px solid #e5e7eb;text-align:center;">
  <div style="font-size:11px;color:#6b7280;">{{label}}</div><div style="font-size:20px;font-weight:bold;padding:2px 0;">{{value}}</div>
  <div style="font-size:11px;color:{{deltaColour}};">{{delta}}</div></td>{{/each}}
</tr></table>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin-top:6px;"><tr>
{{#each ../severities}}<td width="25%" style="padding:6px;text-align:center;border-bottom:3px solid {{colour}};font-size:12px;">{{label}} <b>{{value}}</b> <span style="color:{{deltaColour}};">{{delta}}</span></td>{{/each}}
</tr></table>
{{#each ../charts}}<div style="padding-top:10px;"><img src="{{src}}" width="600" height="{{height}}" alt="{{alt}}" style="display:block;border:0;width:600px;height:{{height}}px;"></div>{{/each}}
</td></tr>
{{/if}}
{{#if (eq this "alerts")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.alerts_section}}</h2>
{{#if ../alertRules.length}}
{{#if ../alertTriage}}<p style="margin:0 0 8px 0;font-size:13px;">{{../alertTriage}}</p>{{/if}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.rule}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.severity}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.count}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.hosts_col}}</th></tr>
{{#each ../alertRules}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{name}}</td><td style="border-bottom:1px solid #f3f4f6;"><span style="color:#ffffff;background:{{colour}};padding:1px 6px;font-size:11px;">{{severity}}</span></td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{count}}</td><td style="border-bottom:1px solid #f3f4f6;color:#374151;">{{hosts}}</td></tr>{{/each}}
</table>
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.top_alert_hosts}}</h3>
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
{{#each ../alertHosts}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{host}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{count}}</td><td style="border-bottom:1px solid #f3f4f6;color:#374151;">{{bySeverity}}</td></tr>{{/each}}
</table>
<p style="font-size:11px;color:#6b7280;margin:6px 0 0 0;">{{../t.csv_note}}</p>
{{else}}<p style="margin:0;">{{../t.no_alerts}}</p>{{/if}}
</td></tr>
{{/if}}
{{#if (eq this "dangerous_commands")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.dangerous_commands}}</h2>
{{#if ../dangerous.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;table-layout:fixed;">
<tr style="background:#f9fafb;"><th align="left" width="96" style="border-bottom:1px solid #e5e7eb;">{{../t.when}}</th><th align="left" width="110" style="border-bottom:1px solid #e5e7eb;">{{../t.who}}</th><th align="left" width="110" style="border-bottom:1px solid #e5e7eb;">{{../t.where}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.what}}</th></tr>
{{#each ../dangerous}}<tr><td valign="top" style="border-bottom:1px solid #f3f4f6;">{{time}}</td><td valign="top" style="border-bottom:1px solid #f3f4f6;">{{who}}</td><td valign="top" style="border-bottom:1px solid #f3f4f6;">{{where}}</td>
<td valign="top" style="border-bottom:1px solid #f3f4f6;word-break:break-all;"><code style="font-family:Consolas,Menlo,monospace;font-size:11px;background:#f3f4f6;">{{command}}</code><br><span style="color:#ffffff;background:{{colour}};padding:0 5px;font-size:10px;">{{severity}}</span> <span style="font-size:11px;color:#6b7280;">{{rule}}</span>{{#if sources}} <span style="font-size:10px;color:#6b7280;">· {{sources}}</span>{{/if}}</td></tr>{{/each}}
</table>
{{#if ../dangerousMore}}<p style="font-size:11px;color:#6b7280;margin:6px 0 0 0;">{{../dangerousMore}}</p>{{/if}}
{{else}}<p style="margin:0;">{{../t.no_dangerous}}</p>{{/if}}
</td></tr>
{{/if}}
{{#if (eq this "logins")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.logins}}</h2>
<p style="margin:0 0 6px 0;">{{../t.successful_logins}}: <b>{{../logins.successes}}</b> · {{../t.failed_logins}}: <b>{{../logins.failures}}</b></p>
{{#if ../logins.byIp.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.source_ip}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.failed}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.accounts_tried}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.hosts_col}}</th></tr>
{{#each ../logins.byIp}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{ip}}{{#if succeeded}} <b style="color:#d32f2f;">({{../../t.then_succeeded}})</b>{{/if}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{count}}</td><td style="border-bottom:1px solid #f3f4f6;">{{users}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{hosts}}</td></tr>{{/each}}
</table>
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.failures_by_user}}</h3>
<p style="margin:0;font-size:12px;">{{../logins.byUser}}</p>
{{/if}}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.new_addresses}}</h3>
{{#if ../logins.newIps.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.source_ip}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.user}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.hosts_col}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.first_seen}}</th></tr>
{{#each ../logins.newIps}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{ip}}</td><td style="border-bottom:1px solid #f3f4f6;">{{users}}</td><td style="border-bottom:1px solid #f3f4f6;">{{hosts}}</td><td style="border-bottom:1px solid #f3f4f6;">{{first}}</td></tr>{{/each}}
</table>
{{else}}<p style="margin:0;font-size:12px;">{{../t.no_new_addresses}}</p>{{/if}}
</td></tr>
{{/if}}
{{#if (eq this "privilege")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.privilege}}</h2>
{{#if ../privilege.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.user}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.sudo}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.su}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.failed}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.hosts_col}}</th></tr>
{{#each ../privilege}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{user}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{sudo}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{su}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{failed}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{hosts}}</td></tr>{{/each}}
</table>
{{else}}<p style="margin:0;">{{../t.no_privilege}}</p>{{/if}}
</td></tr>
{{/if}}
{{#if (eq this "accounts")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.accounts}}</h2>
{{#if ../accounts.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.when}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.host}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.action}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.target}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.by}}</th></tr>
{{#each ../accounts}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{time}}</td><td style="border-bottom:1px solid #f3f4f6;">{{host}}</td><td style="border-bottom:1px solid #f3f4f6;">{{action}}</td><td style="border-bottom:1px solid #f3f4f6;">{{target}}</td><td style="border-bottom:1px solid #f3f4f6;">{{by}}</td></tr>{{/each}}
</table>
{{else}}<p style="margin:0;">{{../t.no_accounts}}</p>{{/if}}
</td></tr>
{{/if}}
{{#if (eq this "activity")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.activity}}</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>
{{#each ../tops}}<td width="33%" valign="top" style="padding-right:8px;"><h3 style="margin:0 0 6px 0;font-size:13px;">{{title}}</h3>
<table width="100%" cellpadding="3" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">{{#each rows}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{key}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{count}}</td></tr>{{/each}}</table></td>{{/each}}
</tr></table>
</td></tr>
{{/if}}
{{#if (eq this "collectors")}}
<tr><td style="padding:16px 20px 4px 20px;"><h2 style="margin:0 0 8px 0;font-size:16px;">{{../t.collectors}}</h2>
<p style="margin:0 0 6px 0;">{{../t.event_hosts}}: <b>{{../collectors.eventHosts}}</b> · {{../t.reporting_hosts}}: <b>{{../collectors.reporting}}</b></p>
<h3 style="margin:8px 0 6px 0;font-size:13px;">{{../t.silent_hosts}}</h3>
{{#if ../collectors.silent.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
{{#each ../collectors.silent}}<tr><td style="border-bottom:1px solid #f3f4f6;color:#d32f2f;font-weight:bold;">{{host}}</td><td style="border-bottom:1px solid #f3f4f6;">{{../../t.last_seen}}: {{lastSeen}}</td></tr>{{/each}}
</table>
{{/if}}
{{#if ../collectors.heartbeatState}}<p style="margin:0;font-size:12px;">{{../collectors.heartbeatState}}</p>{{/if}}
<h3 style="margin:12px 0 6px 0;font-size:13px;">{{../t.dropping}}</h3>
{{#if ../collectors.dropping.length}}
<table width="100%" cellpadding="4" cellspacing="0" border="0" style="border-collapse:collapse;font-size:12px;">
<tr style="background:#f9fafb;"><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.host}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.deadlettered}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.dropped}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.parse_failed}}</th><th align="right" style="border-bottom:1px solid #e5e7eb;">{{../t.lost}}</th><th align="left" style="border-bottom:1px solid #e5e7eb;">{{../t.reasons}}</th></tr>
{{#each ../collectors.dropping}}<tr><td style="border-bottom:1px solid #f3f4f6;">{{host}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{deadlettered}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{dropped}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{failed}}</td><td align="right" style="border-bottom:1px solid #f3f4f6;">{{lost}}</td><td style="border-bottom:1px solid #f3f4f6;font-size:11px;">{{reasons}}</td></tr>{{/each}}
</table>
{{else}}<p style="margin:0;font-size:12px;">{{../t.none_dropping}}</p>{{/if}}
{{#if ../collectors.deadAfter}}<p style="margin:6px 0 0 0;font-size:12px;">{{../collectors.deadAfter}}</p>{{/if}}
</td></tr>
{{/if}}
${POSTURE_HTML}{{/each}}
<tr><td style="padding:16px 20px;font-size:11px;color:#9ca3af;border-top:1px solid #e5e7eb;">{{t.footer}} · {{namespace}}</td></tr>
</table></td></tr></table>
</body></html>
`;

export const TEXT_TEMPLATE = `{{title}}
{{periodLabel}}: {{periodText}}
{{t.previous}} {{previousText}}
{{t.generated}} {{generatedText}}
{{#if empty}}

{{t.empty}}
{{/if}}
{{#each sections}}
{{#if (eq this "headline")}}

== {{../t.headline}} ==
{{#each ../headline}}{{label}}: {{value}} ({{delta}})
{{/each}}{{#each ../severities}}{{label}}: {{value}} ({{delta}})
{{/each}}{{/if}}
{{#if (eq this "alerts")}}

== {{../t.alerts_section}} ==
{{#if ../alertRules.length}}{{#if ../alertTriage}}{{../alertTriage}}
{{/if}}{{/if}}{{#each ../alertRules}}[{{severity}}] {{name}}: {{count}} ({{hosts}})
{{else}}{{../t.no_alerts}}
{{/each}}{{/if}}
{{#if (eq this "dangerous_commands")}}

== {{../t.dangerous_commands}} ==
{{#each ../dangerous}}{{time}}  {{who}}  {{where}}
    $ {{command}}
    [{{severity}}] {{rule}}{{#if sources}} ({{sources}}){{/if}}
{{else}}{{../t.no_dangerous}}
{{/each}}{{#if ../dangerousMore}}{{../dangerousMore}}
{{/if}}{{/if}}
{{#if (eq this "logins")}}

== {{../t.logins}} ==
{{../t.successful_logins}}: {{../logins.successes}}; {{../t.failed_logins}}: {{../logins.failures}}
{{#each ../logins.byIp}}  {{ip}}: {{count}} ({{users}}){{#if succeeded}} ** {{../../t.then_succeeded}} **{{/if}}
{{/each}}{{../t.new_addresses}}:
{{#each ../logins.newIps}}  {{ip}} {{users}} @ {{hosts}} ({{first}})
{{else}}  {{../t.no_new_addresses}}
{{/each}}{{/if}}
{{#if (eq this "privilege")}}

== {{../t.privilege}} ==
{{#each ../privilege}}  {{user}}: sudo {{sudo}}, su {{su}}, {{../../t.failed}} {{failed}}
{{else}}{{../t.no_privilege}}
{{/each}}{{/if}}
{{#if (eq this "accounts")}}

== {{../t.accounts}} ==
{{#each ../accounts}}  {{time}} {{host}} {{action}} {{target}} ({{by}})
{{else}}{{../t.no_accounts}}
{{/each}}{{/if}}
{{#if (eq this "activity")}}

== {{../t.activity}} ==
{{#each ../tops}}{{title}}: {{#each rows}}{{key}} {{count}}{{#unless @last}}, {{/unless}}{{/each}}
{{/each}}{{/if}}
{{#if (eq this "collectors")}}

== {{../t.collectors}} ==
{{../t.event_hosts}}: {{../collectors.eventHosts}}; {{../t.reporting_hosts}}: {{../collectors.reporting}}
{{#each ../collectors.silent}}  {{../../t.silent_hosts}}: {{host}} ({{../../t.last_seen}} {{lastSeen}})
{{/each}}{{#if ../collectors.heartbeatState}}  {{../collectors.heartbeatState}}
{{/if}}{{#each ../collectors.dropping}}  {{host}}: {{../../t.deadlettered}} {{deadlettered}}, {{../../t.dropped}} {{dropped}}, {{../../t.parse_failed}} {{failed}}, {{../../t.lost}} {{lost}} {{reasons}}
{{else}}  {{../t.none_dropping}}
{{/each}}{{#if ../collectors.deadAfter}}  {{../collectors.deadAfter}}
{{/if}}{{/if}}
${POSTURE_TEXT}{{/each}}

-- 
{{t.footer}}
`;
