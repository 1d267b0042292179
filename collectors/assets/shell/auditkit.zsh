# auditkit shell hook for zsh: installed as /etc/zsh/auditkit.zsh and sourced
# from /etc/zsh/zshrc (root:root 0644). Same record format and transport as the
# bash hook (auditkit.sh, see collectors/shell/README.md), with zsh's own means:
# preexec gets the command line as typed (no history read), precmd its status,
# zsh/net/tcp (ztcp) the loopback connection, zsh/datetime the clock: no fork
# per prompt. zsh cannot make functions read-only: this hook is weaker against
# its own user than the bash one (README "Known limits").
#
# A user function named like a command the hook runs (print, read, ztcp, emulate,
# return, command, ...) would run instead of it and silence the hook, and every
# command that removes a function (unfunction, unset -f, disable, builtin) can be
# shadowed too. Assignments cannot: zsh/parameter's dis_functions[NAME]=... puts a
# *disabled* function in the table in place of the user's, so NAME is the builtin
# again; the user's body, saved in a plain array, goes back with functions[NAME]=
# after the hook. Until then only assignments, [[ ]], (( )), if and for.

[[ -n ${ZSH_VERSION-} && -o interactive ]] || return 0

# Aliases from ~/.zshenv would be expanded into the functions below as they are
# parsed: none while this file is read (restored at its end).
__auditkit_aliases_opt=${options[aliases]}
options[aliases]=off
__auditkit_saved=() __auditkit_shadowed= __auditkit_n= __auditkit_rc=0

# Disable every user function named like a command the hook runs, save its body and
# name it in __auditkit_shadowed. Assignments, [[ ]] and (( )) only (see above).
__auditkit_unshadow() {
  __auditkit_saved=() __auditkit_shadowed=
  # Someone who made the hashes read-only or unset them cannot be undone: say so.
  if [[ ${(t)functions} != *special* || ${(t)dis_functions} != *special* \
    || ${(t)functions}${(t)dis_functions} == *readonly* ]]; then
    __auditkit_shadowed=functions
  # The usual case, none, in one arithmetic test: ~10 µs of CPU where the loop alone took ~45
  # (a zsh micro-loop on the 2-CPU dev VM; bench/shell.ts measures the whole hook).
  # The same names as the loop's (test/shell/zsh-hook.e2e.test.ts checks).
  elif (( ${+functions[builtin]} + ${+functions[command]} + ${+functions[exec]} + ${+functions[emulate]} \
    + ${+functions[print]} + ${+functions[printf]} + ${+functions[read]} + ${+functions[return]} \
    + ${+functions[ztcp]} + ${+functions[zmodload]} + ${+functions[unset]} + ${+functions[getent]} \
    + ${+functions[logname]} + ${+functions[logger]} + ${+functions[local]} + ${+functions[typeset]} \
    + ${+functions[:]} )); then
    for __auditkit_n in builtin command exec emulate print printf read return ztcp zmodload \
      unset getent logname logger local typeset :; do
      if (( ${+functions[$__auditkit_n]} )); then
        __auditkit_shadowed+=${__auditkit_shadowed:+ }$__auditkit_n
        __auditkit_saved+=("$__auditkit_n" "${functions[$__auditkit_n]}")
        dis_functions[$__auditkit_n]=
      fi
    done
  fi
}

# Put the user's functions back as they were (their text, parsed again without aliases:
# the saved text already has the aliases of its definition expanded).
__auditkit_restore() {
  emulate -L zsh
  options[aliases]=off
  local i
  for (( i = 1; i < ${#__auditkit_saved}; i += 2 )); do
    functions[${__auditkit_saved[i]}]=${__auditkit_saved[i+1]}
  done
  __auditkit_saved=()
}

__auditkit_unshadow
if (( ${+__auditkit_loaded} )) || ! zmodload zsh/datetime 2>/dev/null; then
  __auditkit_restore
  options[aliases]=$__auditkit_aliases_opt
  return 0
fi

zmodload zsh/net/tcp 2>/dev/null

# --- settings (the installer rewrites these lines) ---------------------------
__auditkit_addr=127.0.0.1
__auditkit_port=601
__auditkit_logger_tag=auditkit-shell
__auditkit_logger_prio=authpriv.info
__auditkit_logger_socket=
__auditkit_ack_timeout=0.5
# Liveness stamp ("<epoch ms> <port>", rewritten by the collector every 250 ms): older than
# __auditkit_alive_ms, no connect (ztcp has no timeout either); see auditkit.sh.
__auditkit_alive=/run/auditkit/hook.alive
__auditkit_alive_ms=1500
# -----------------------------------------------------------------------------

typeset -g __auditkit_loaded=1
# The uid proof the collector gives this shell with its first OK (see auditkit.sh).
typeset -g __auditkit_proof=

__auditkit_esc() { # __auditkit_esc VAR STRING
  emulate -L zsh
  local s=$2 c o i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[[:cntrl:]]* ]]; then
    o=
    for (( i = 1; i <= ${#s}; i++ )); do
      c=${s[i]}
      [[ $c == [[:cntrl:]] ]] && printf -v c '\\u%04x' "'$c"
      o+=$c
    done
    s=$o
  fi
  typeset -g "$1=$s"
}

typeset -g __auditkit_luid= __auditkit_ses= __auditkit_lname= __auditkit_logname= __auditkit_tty=${TTY#/dev/}
{ read -r __auditkit_luid </proc/self/loginuid } 2>/dev/null
{ read -r __auditkit_ses </proc/self/sessionid } 2>/dev/null
[[ $__auditkit_luid == 4294967295 ]] && __auditkit_luid=
[[ $__auditkit_ses == 4294967295 ]] && __auditkit_ses=
if [[ -n $__auditkit_luid ]]; then
  __auditkit_lname=${$(getent passwd "$__auditkit_luid" 2>/dev/null)%%:*}
fi
__auditkit_logname=$(logname 2>/dev/null)
typeset -g __auditkit_sid
printf -v __auditkit_sid '%x-%x-%04x%04x' $(( epochtime[-2] * 1000000 + epochtime[-1] / 1000 )) $$ $RANDOM $RANDOM

typeset -g __auditkit_prefix='{"v":1,"shell":"zsh"' __auditkit_v __auditkit_kv
for __auditkit_kv in host:HOST sid:__auditkit_sid user:USERNAME lname:__auditkit_lname \
  logname:__auditkit_logname sudo_user:SUDO_USER tty:__auditkit_tty ssh:SSH_CONNECTION bsid:AUDITKIT_BASTION_SESSION zsh:ZSH_VERSION; do
  __auditkit_esc __auditkit_v "${(P)${__auditkit_kv#*:}-}"
  [[ -n $__auditkit_v ]] && __auditkit_prefix+=",\"${__auditkit_kv%%:*}\":\"$__auditkit_v\""
done
__auditkit_prefix+=",\"uid\":$UID,\"euid\":$EUID,\"pid\":$$,\"ppid\":$PPID"
[[ -n $__auditkit_luid ]] && __auditkit_prefix+=",\"luid\":$__auditkit_luid"
[[ -n $__auditkit_ses ]] && __auditkit_prefix+=",\"ses\":$__auditkit_ses"
[[ ${SUDO_UID-} == <-> ]] && __auditkit_prefix+=",\"sudo_uid\":$SUDO_UID"
unset __auditkit_v __auditkit_kv

typeset -gi __auditkit_seq=0
typeset -g __auditkit_cmd= __auditkit_start= __auditkit_ran=0 __auditkit_primed=

__auditkit_send() {
  emulate -L zsh
  local fd ack= hb hp line now=$(( epochtime[1] * 1000 + epochtime[2] / 1000000 ))
  if [[ -n $__auditkit_alive ]] && { IFS=" " read -r hb hp <$__auditkit_alive } 2>/dev/null \
    && [[ $hp == $__auditkit_port && $hb == <-> ]] && (( now - hb > __auditkit_alive_ms )); then
    : # stale: the collector is frozen or gone; connecting could hang
  elif (( ${+builtins[ztcp]} )) && ztcp "$__auditkit_addr" "$__auditkit_port" 2>/dev/null; then
    fd=$REPLY
    # The uid proof from an earlier OK (empty: ask for one); over this connection only.
    [[ $__auditkit_proof == <->:* && ${#${__auditkit_proof#*:}} -eq 32 && ${__auditkit_proof#*:} != *[^0-9a-f]* ]] || __auditkit_proof=
    line="${1%\}},\"tok\":\"$__auditkit_proof\"}"
    if [[ $__auditkit_ack_timeout == 0 ]]; then
      print -r -u $fd -- "$line" 2>/dev/null && ack=OK
    else
      print -r -u $fd -- "$line" 2>/dev/null && IFS= read -r -t "$__auditkit_ack_timeout" -u $fd ack 2>/dev/null
    fi
    ztcp -c $fd 2>/dev/null
    ack=${ack%$'\r'}
    if [[ $ack == "OK "* ]]; then
      __auditkit_proof=${ack#OK }
      ack=OK
    fi
    [[ $ack == OK ]] && return 0
  fi
  command logger ${__auditkit_logger_socket:+-u} ${__auditkit_logger_socket:+$__auditkit_logger_socket} \
    -t "$__auditkit_logger_tag" -p "$__auditkit_logger_prio" --id=$$ -S 262144 -- "$1" 2>/dev/null
}

# Runs with the user's options (no emulate: it only assigns): epochtime[-2] and [-1] are the
# seconds and nanoseconds whether KSH_ARRAYS numbers from 0 or not.
__auditkit_preexec() {
  __auditkit_cmd=$1
  __auditkit_start=$(( epochtime[-2] * 1000 + epochtime[-1] / 1000000 ))
  __auditkit_ran=1
}

# Takes $? by assignment, disables shadowing functions (__auditkit_unshadow), records,
# and puts them back in the `always` block whichever way the record part ends.
__auditkit_precmd() {
  __auditkit_rc=$?
  __auditkit_unshadow
  {
    emulate -L zsh
    local rc=$__auditkit_rc now=$(( epochtime[1] * 1000 + epochtime[2] / 1000000 )) esc cwd line start=$__auditkit_start
    # First prompt: say that the shell started (`"ev":"start"`, seq 0, no command), so what the
    # login declares (bastion session, client address) reaches the collector now and its auditd
    # events are joined from here, not from when its first command ends (as the bash hook does).
    if [[ -z $__auditkit_primed ]]; then
      __auditkit_primed=1 __auditkit_ran=0
      __auditkit_esc cwd "$PWD"
      __auditkit_send "$__auditkit_prefix,\"ev\":\"start\",\"seq\":0,\"t\":$now,\"cwd\":\"$cwd\"${__auditkit_shadowed:+,\"shadowed\":\"$__auditkit_shadowed\"}}"
      return $rc
    fi
    [[ $__auditkit_ran == 1 ]] || return $rc
    __auditkit_ran=0
    (( __auditkit_seq++ ))
    __auditkit_esc esc "$__auditkit_cmd"
    __auditkit_esc cwd "$PWD"
    line="$__auditkit_prefix,\"seq\":$__auditkit_seq,\"t\":$now${start:+,\"start\":$start},\"rc\":$rc,\"hist\":$(( HISTCMD - 1 )),\"cwd\":\"$cwd\"${__auditkit_shadowed:+,\"shadowed\":\"$__auditkit_shadowed\"},\"cmd\":\"$esc\"}"
    __auditkit_send "$line"
    return $rc
  } always {
    if (( ${#__auditkit_saved} )); then __auditkit_restore; fi
  }
}

# add-zsh-hook by hand: it is a function that runs commands (emulate, zparseopts, ...).
# [@]: the user's KSH_ARRAYS (~/.zshenv) would make a bare name its first element only.
preexec_functions=(${preexec_functions[@]:#__auditkit_preexec} __auditkit_preexec)
# First in precmd_functions, so nothing runs between the command and us.
precmd_functions=(__auditkit_precmd ${precmd_functions[@]:#__auditkit_precmd})

typeset -r __auditkit_loaded __auditkit_addr __auditkit_port __auditkit_logger_tag __auditkit_logger_prio \
  __auditkit_logger_socket __auditkit_ack_timeout __auditkit_alive __auditkit_alive_ms __auditkit_luid __auditkit_ses __auditkit_lname \
  __auditkit_logname __auditkit_tty __auditkit_sid __auditkit_prefix

__auditkit_restore
options[aliases]=$__auditkit_aliases_opt
