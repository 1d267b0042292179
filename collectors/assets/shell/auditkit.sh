# auditkit shell hook: installed as /etc/profile.d/auditkit.sh (root:root 0644).
#
# For every interactive bash command it sends one JSON object (one line) to the
# auditkit collector on a loopback TCP port (bash's /dev/tcp: no fork), waits for
# the collector's "OK" (so the collector can attest the sender's uid from the
# kernel socket table while the connection is open), and falls back to
# `logger` (syslog/journald, authpriv) only when the collector does not answer.
# It never writes to a file another user can write. See collectors/shell/README.md
# for the record format, the tamper analysis and the known limits: this hook is a
# context source (the typed text); auditd execve events are the tamper-resistant
# complement.
#
# Per prompt it costs a handful of builtins, two opens of a private scratch file
# and one loopback connection: no fork, no exec (bench/shell.ts measures it).

# Interactive bash, once per shell; and the one non-interactive bash that sshd starts for an
# exec request (`ssh host 'cmd'`: Debian's bash sources /etc/bash.bashrc and ~/.bashrc then,
# SSH_SOURCE_BASHRC), which sends one record with the command string and returns: without it,
# an exec login would send nothing, and the collector could not join its auditd events to the
# bastion session it came through (issue 17; collectors/shell/README.md "Exec requests").
[ -n "${BASH_VERSION-}" ] || return 0
__auditkit_exec=
case $- in
  *i*) ;;
  *) [ -n "${BASH_EXECUTION_STRING+x}" ] && [ -n "${SSH_CONNECTION-}" ] && [ -z "${__auditkit_loaded-}" ] || return 0
     __auditkit_exec=1 ;;
esac
[ -z "${__auditkit_loaded-}" ] || return 0
# bash >= 4.4 for PS0, >= 5.0 for EPOCHREALTIME.
[ "${BASH_VERSINFO[0]}" -ge 5 ] 2>/dev/null || return 0

# --- settings (the installer rewrites these lines) ---------------------------
__auditkit_addr=127.0.0.1
__auditkit_port=601
__auditkit_logger_tag=auditkit-shell
__auditkit_logger_prio=authpriv.info
# Empty: the system log socket (/dev/log). Else a unix socket path for logger -u.
__auditkit_logger_socket=
# Seconds to wait for the collector's acknowledgement before falling back to
# syslog. 0 = do not wait: fire and forget (cheaper prompt on a loaded host, but no
# delivery confirmation, no fallback while the port accepts, and the sender uid is
# not attested). See README "Transport".
__auditkit_ack_timeout=0.5
# The collector rewrites this file with "<epoch ms> <port>" every 250 ms. Older than
# __auditkit_alive_ms, the collector is frozen (SIGSTOP, a stuck event loop) or gone:
# the hook does not connect but falls back at once, because a connect to a frozen
# collector whose accept queue is full waits for SYN retries (about 2 minutes) and
# bash's /dev/tcp has no timeout. Missing file, or another port's: connect as
# before. Empty: no check.
__auditkit_alive=/run/auditkit/hook.alive
__auditkit_alive_ms=1500
# -----------------------------------------------------------------------------

__auditkit_loaded=1
# The uid proof the collector gives this shell with its first OK (collectors/shell/proof.ts).
# Mutable: a user who changes it only sends their own records the slow way.
__auditkit_proof=

# JSON string escaping with parameter expansion only (no fork). Control
# characters other than \n \r \t are rare: handled by a slower loop only when present.
__auditkit_esc() { # __auditkit_esc VAR STRING: VAR = STRING escaped for a JSON string
  local s=$2 c i o
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    o=
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [[:cntrl:]] ]]; then
        printf -v c '\\u%04x' "'$c"
      fi
      o+=$c
    done
    s=$o
  fi
  printf -v "$1" '%s' "$s"
}

# --- facts fixed for the life of the shell (forks here run once, at start) ----
__auditkit_tmp='\u'
__auditkit_user=${__auditkit_tmp@P}         # getpwuid(real uid), not $USER
__auditkit_luid=
__auditkit_ses=
{ read -r __auditkit_luid </proc/self/loginuid; } 2>/dev/null
{ read -r __auditkit_ses </proc/self/sessionid; } 2>/dev/null
[ "$__auditkit_luid" = 4294967295 ] && __auditkit_luid=
[ "$__auditkit_ses" = 4294967295 ] && __auditkit_ses=
__auditkit_lname=
if [ -n "$__auditkit_luid" ]; then
  __auditkit_tmp=$(getent passwd "$__auditkit_luid" 2>/dev/null)
  __auditkit_lname=${__auditkit_tmp%%:*}
fi
__auditkit_logname=$(logname 2>/dev/null)
__auditkit_tty=$(tty 2>/dev/null) || __auditkit_tty=
__auditkit_tty=${__auditkit_tty#/dev/}
__auditkit_t0=${EPOCHREALTIME//[!0-9]/}
printf -v __auditkit_sid '%x-%x-%04x%04x' "$__auditkit_t0" "$$" "$RANDOM" "$RANDOM"

# The static part of every record, escaped once.
__auditkit_prefix='{"v":1,"shell":"bash"'
for __auditkit_tmp in \
  host:HOSTNAME sid:__auditkit_sid user:__auditkit_user lname:__auditkit_lname \
  logname:__auditkit_logname sudo_user:SUDO_USER tty:__auditkit_tty ssh:SSH_CONNECTION \
  bsid:AUDITKIT_BASTION_SESSION bash:BASH_VERSION; do
  __auditkit_v=${__auditkit_tmp#*:}
  __auditkit_esc __auditkit_v "${!__auditkit_v-}"
  [ -n "$__auditkit_v" ] && __auditkit_prefix+=",\"${__auditkit_tmp%%:*}\":\"$__auditkit_v\""
done
__auditkit_prefix+=",\"uid\":$UID,\"euid\":$EUID,\"pid\":$$,\"ppid\":$PPID"
[ -n "$__auditkit_luid" ] && __auditkit_prefix+=",\"luid\":$__auditkit_luid"
[ -n "$__auditkit_ses" ] && __auditkit_prefix+=",\"ses\":$__auditkit_ses"
case ${SUDO_UID-} in '' | *[!0-9]*) ;; *) __auditkit_prefix+=",\"sudo_uid\":$SUDO_UID" ;; esac
unset __auditkit_tmp __auditkit_v

__auditkit_send() { # __auditkit_send LINE
  local fd= ack= hb= hp= line now=${EPOCHREALTIME//[!0-9]/}
  # A stale liveness stamp: the collector cannot answer, and connecting could hang.
  # (open + read of a small tmpfs file: no fork.)
  if [ -n "$__auditkit_alive" ] && { IFS=" " read -r hb hp <"$__auditkit_alive"; } 2>/dev/null \
    && [[ $hp == "$__auditkit_port" && -n $hb && $hb != *[!0-9]* ]] && ((${now:0:-3} - hb > __auditkit_alive_ms)); then
    :
  # Loopback connect + write + wait for "OK": all builtins. 2>/dev/null hides
  # "connection refused" when the collector is down.
  elif { exec {fd}<>"/dev/tcp/$__auditkit_addr/$__auditkit_port"; } 2>/dev/null; then
    # The uid proof the collector answered an earlier record with (empty: ask for one). It
    # spares the collector a walk of the kernel's socket table: most of the prompt's wait.
    # Sent over this connection only, never to syslog.
    [[ $__auditkit_proof =~ ^[0-9]+:[0-9a-f]{32}$ ]] || __auditkit_proof=
    line="${1%\}},\"tok\":\"$__auditkit_proof\"}"
    if [ "$__auditkit_ack_timeout" = 0 ]; then
      { printf '%s\n' "$line" >&"$fd"; } 2>/dev/null && ack=OK
    else
      { printf '%s\n' "$line" >&"$fd"; } 2>/dev/null && IFS= read -r -t "$__auditkit_ack_timeout" -u "$fd" ack 2>/dev/null
    fi
    exec {fd}>&-
    ack=${ack%$'\r'}
    if [[ $ack == "OK "* ]]; then
      __auditkit_proof=${ack#OK }
      ack=OK
    fi
    [ "$ack" = OK ] && return 0
  fi
  # Fallback: syslog/journald (forks; only while the collector is down).
  command logger ${__auditkit_logger_socket:+-u "$__auditkit_logger_socket"} -t "$__auditkit_logger_tag" -p "$__auditkit_logger_prio" \
    --id=$$ -S 262144 -- "$1" 2>/dev/null
}

# An exec request: one record, sent before the command runs (so the login's processes are
# joined from their start), with the command string as sshd passed it; no rc (not known yet),
# no history, no prompt hooks. Prints nothing (scp, rsync, git and sftp-server speak over
# this channel).
if [ -n "$__auditkit_exec" ]; then
  __auditkit_esc __auditkit_v "$BASH_EXECUTION_STRING"
  __auditkit_esc __auditkit_tmp "$PWD"
  __auditkit_send "$__auditkit_prefix,\"ev\":\"exec\",\"seq\":1,\"t\":${__auditkit_t0:0:-3},\"cwd\":\"$__auditkit_tmp\",\"cmd\":\"$__auditkit_v\"}"
  unset __auditkit_tmp __auditkit_v __auditkit_exec
  return 0
fi
unset __auditkit_exec

# Private scratch file to read the history entry without a command substitution
# (a fork): in a 0700 directory we own, on tmpfs where there is one (a disk /tmp
# costs milliseconds per prompt on some machines); else $(...) (one fork per prompt).
__auditkit_scratch=
for __auditkit_tmp in "${XDG_RUNTIME_DIR-}" /dev/shm/.auditkit-$UID "${TMPDIR:-/tmp}/.auditkit-$UID"; do
  [ -n "$__auditkit_tmp" ] || continue
  case $__auditkit_tmp in */.auditkit-*) mkdir -m 700 -- "$__auditkit_tmp" 2>/dev/null ;; esac
  if [ -d "$__auditkit_tmp" ] && [ -O "$__auditkit_tmp" ] && [ ! -L "$__auditkit_tmp" ] \
    && [ "$(stat -c %a -- "$__auditkit_tmp" 2>/dev/null)" = 700 ]; then
    __auditkit_scratch=$__auditkit_tmp/.auditkit-hist-$$
    break
  fi
done
unset __auditkit_tmp

# Mutable state (cannot be readonly; tampering with it is covered in the README).
__auditkit_seq=0
__auditkit_lasthist=$((HISTCMD - 1))
__auditkit_ran=0
__auditkit_primed=
__auditkit_start=
__auditkit_empty=
__auditkit_shadowed=

# A user function named like a command the hook runs (exec, command, builtin,
# printf, read, local, ...) would run instead of it and silence the hook. The
# wrapper takes $? with a plain assignment, then sets POSIXLY_CORRECT: in POSIX
# mode special builtins (export, unset, return) are found before functions, so
# they cannot be shadowed; it names every shadowing function in the record
# ("shadowed", tag auditkit_hook_tampered) and removes it (unset -f) before the
# hook runs. Assignments, [[ ]] and special builtins only until then.
__auditkit_hook() {
  __auditkit_rc=$? __auditkit_px=${POSIXLY_CORRECT-__auditkit_unset}
  [[ :$SHELLOPTS: == *:posix:* ]] && __auditkit_px=__auditkit_keep
  POSIXLY_CORRECT=y
  for __auditkit_n in exec command builtin printf read fc local logger test [ : eval; do
    if export -f "$__auditkit_n" 2>/dev/null; then
      __auditkit_shadowed+="${__auditkit_shadowed:+ }$__auditkit_n"
      unset -f "$__auditkit_n"
    fi
  done
  __auditkit_record "$__auditkit_rc"
  if [[ $__auditkit_px == __auditkit_unset ]]; then unset POSIXLY_CORRECT
  elif [[ $__auditkit_px != __auditkit_keep ]]; then POSIXLY_CORRECT=$__auditkit_px; fi
  return $__auditkit_rc
}

__auditkit_record() { # __auditkit_record RC
  local rc=$1 now=${EPOCHREALTIME//[!0-9]/} hist=$((HISTCMD - 1)) cmd= esc= nohist= line start= cwd=
  # First prompt: the history file was loaded after this script ran; start counting here. And say
  # that the shell started (`"ev":"start"`, seq 0, no command): what the login declares (its
  # bastion session, its client address) reaches the collector now, not when the first command
  # ends, so the login's auditd events are joined from here on (issue 17).
  if [ -z "$__auditkit_primed" ]; then
    __auditkit_primed=1 __auditkit_lasthist=$hist
    __auditkit_esc cwd "$PWD"
    __auditkit_send "$__auditkit_prefix,\"ev\":\"start\",\"seq\":0,\"t\":${now:0:-3},\"cwd\":\"$cwd\"${__auditkit_shadowed:+,\"shadowed\":\"$__auditkit_shadowed\"}}"
    __auditkit_shadowed=
    return $rc
  fi
  # Nothing ran (empty line, Ctrl-C at the prompt).
  if [ "$__auditkit_ran" != 1 ] && [ "$hist" = "$__auditkit_lasthist" ]; then return $rc; fi
  start=$__auditkit_start
  __auditkit_ran=0 __auditkit_start=
  if [ "$hist" != "$__auditkit_lasthist" ]; then
    __auditkit_lasthist=$hist
    if [ -n "$__auditkit_scratch" ]; then
      builtin fc -ln -1 >"$__auditkit_scratch" 2>/dev/null
      IFS= read -r -d '' cmd <"$__auditkit_scratch"
      : >"$__auditkit_scratch"
    else
      cmd=$(builtin fc -ln -1 2>/dev/null; printf x)
      cmd=${cmd%x}
    fi
    cmd=${cmd#$'\t'}
    cmd=${cmd# }
    cmd=${cmd%$'\n'}
  else
    # A command ran but did not enter the history (HISTCONTROL=ignorespace/ignoredups,
    # HISTIGNORE, set +o history): record that it happened, without its text.
    nohist=',"nohist":true'
  fi
  __auditkit_seq=$((__auditkit_seq + 1))
  __auditkit_esc esc "$cmd"
  __auditkit_esc cwd "$PWD"
  line="$__auditkit_prefix,\"seq\":$__auditkit_seq,\"t\":${now:0:-3}${start:+,\"start\":${start:0:-3}},\"rc\":$rc,\"hist\":$hist,\"cwd\":\"$cwd\"$nohist${__auditkit_shadowed:+,\"shadowed\":\"$__auditkit_shadowed\"},\"cmd\":\"$esc\"}"
  __auditkit_shadowed= # reported (kept until a record carries it)
  __auditkit_send "$line"
  return $rc
}

# Keep multi-line commands as typed (newlines, not "; ") in the history entry we read.
shopt -s cmdhist lithist

# PS0 is expanded after a command line is read and before it runs: flag that a
# command ran and take its start time, with arithmetic only (no fork, prints nothing).
PS0='${__auditkit_empty:$((__auditkit_ran=1,__auditkit_start=${EPOCHREALTIME//[!0-9]/},0)):0}'"${PS0-}"

# Our hook must run first in PROMPT_COMMAND to see the command's $?.
if [ "${BASH_VERSINFO[0]}${BASH_VERSINFO[1]}" -ge 51 ] 2>/dev/null; then
  if [ -n "${PROMPT_COMMAND[*]-}" ]; then
    PROMPT_COMMAND=(__auditkit_hook "${PROMPT_COMMAND[@]}")
  else
    PROMPT_COMMAND=(__auditkit_hook)
  fi
else
  PROMPT_COMMAND="__auditkit_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi

readonly __auditkit_loaded __auditkit_addr __auditkit_port __auditkit_logger_tag __auditkit_logger_prio __auditkit_logger_socket \
  __auditkit_ack_timeout __auditkit_alive __auditkit_alive_ms __auditkit_user __auditkit_luid __auditkit_ses __auditkit_lname \
  __auditkit_logname __auditkit_tty __auditkit_t0 __auditkit_sid __auditkit_prefix __auditkit_scratch \
  __auditkit_empty PS0 PROMPT_COMMAND
readonly -f __auditkit_esc __auditkit_send __auditkit_record __auditkit_hook
