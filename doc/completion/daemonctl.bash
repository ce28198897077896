# bash completion for daemonctl. Generated from the command-line definition
# by `go generate` (internal/gendocs); do not edit.

_daemonctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local i word cmd="" cfg=() pidfile="" dashdash="" npos=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -n $dashdash ]]; then ((npos++)); continue; fi
		case $word in
		--config-dir) cfg=(--config-dir "${COMP_WORDS[i+1]}"); ((i++)); continue ;;
		--config-dir=*) cfg=("$word"); continue ;;
		--) dashdash=1; continue ;;
		-p | --pidfile | --pidfile=* | -p?*) pidfile=1 ;;
		esac
		case $word in
		--pidfile | -p | --stdout | -o | --stderr | --notify-socket | --config-dir | --chdir | -d | --signal | -s | --user | -u | --group | -g | --name | --umask | --env | -e | --nice | -N | --wait | -w | --timeout | --respawn | --respawn-delay | --respawn-delay-max | --respawn-limit | --watchdog | --log-max-size | --log-keep | --program-pidfile | --retry | -R | --exec | --format | --lines | -n | --daemonctl) ((i++)) ;;
		-*) ;;
		*) if [[ -z $cmd ]]; then cmd=$word; else ((npos++)); fi ;;
		esac
	done
	case $prev in
	--pidfile | -p | --stdout | -o | --stderr | --notify-socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--config-dir | --chdir | -d) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--signal | -s) COMPREPLY=($(compgen -W "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM" -- "$cur")); return ;;
	--user | -u) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--group | -g) COMPREPLY=($(compgen -g -- "$cur")); return ;;
	--name | --umask | --env | -e | --nice | -N | --wait | -w | --timeout | --respawn | --respawn-delay | --respawn-delay-max | --respawn-limit | --watchdog | --log-max-size | --log-keep | --program-pidfile | --retry | -R | --exec | --format | --lines | -n | --daemonctl) return ;;
	esac
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--config-dir --help -h --version -v" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "start stop status reload restart signal logs check init-script help" -- "$cur"))
		fi
		return
	fi
	if [[ -n $dashdash ]]; then
		# after --: the PROGRAM, then its arguments
		if ((npos == 0)); then COMPREPLY=($(compgen -c -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
		return
	fi
	if [[ $cur == -* ]]; then
		case $cmd in
		start) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --all -a --chdir -d --umask --user -u --group -g --env -e --clear-env --stdout -o --stderr --nice -N --wait -w --notify --timeout --keep-on-timeout --notify-socket --supervise --respawn --respawn-delay --respawn-delay-max --respawn-limit --watchdog --log-max-size --log-keep --forking --program-pidfile --signal -s --retry -R --help -h" -- "$cur")) ;;
		stop) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --all -a --exec --signal -s --retry -R --help -h" -- "$cur")) ;;
		status) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --all -a --exec --json --format --help -h" -- "$cur")) ;;
		reload) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --exec --signal -s --help -h" -- "$cur")) ;;
		restart) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --chdir -d --umask --user -u --group -g --env -e --clear-env --stdout -o --stderr --nice -N --wait -w --notify --timeout --keep-on-timeout --notify-socket --supervise --respawn --respawn-delay --respawn-delay-max --respawn-limit --watchdog --log-max-size --log-keep --forking --program-pidfile --signal -s --retry -R --help -h" -- "$cur")) ;;
		signal) COMPREPLY=($(compgen -W "--pidfile -p --name --quiet -q --exec --help -h" -- "$cur")) ;;
		logs) COMPREPLY=($(compgen -W "--pidfile -p --lines -n --follow -f --help -h" -- "$cur")) ;;
		check) COMPREPLY=($(compgen -W "--quiet -q --help -h" -- "$cur")) ;;
		init-script) COMPREPLY=($(compgen -W "--daemonctl --help -h" -- "$cur")) ;;
		esac
		return
	fi
	case $cmd in
	signal)
		if [[ -n $pidfile ]] || ((npos == 1)); then COMPREPLY=($(compgen -W "HUP INT QUIT KILL USR1 USR2 TERM CONT STOP WINCH ALRM" -- "$cur")); return; fi ;;
	esac
	case $cmd in
	start | stop | status | reload | restart | signal | logs | check | init-script)
		if [[ -z $pidfile ]] && ((npos == 0)); then
			COMPREPLY=($(compgen -W "$(daemonctl "${cfg[@]}" __complete services 2>/dev/null)" -- "$cur"))
		fi ;;
	help) COMPREPLY=($(compgen -W "start stop status reload restart signal logs check init-script" -- "$cur")) ;;
	esac
}
complete -F _daemonctl daemonctl
