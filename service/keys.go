package service

// Key documents one key of a definition file. Keys is the single list the
// loader's messages, check and the daemonctl.d(5) manual are made from.
type Key struct {
	// Name is the key as written, dotted for the [init] table's keys.
	Name string
	// Type is what the value must be, as messages say it.
	Type string
	// Default is what an absent key means.
	Default string
	// Flag is the command-line option that overrides the key, if any.
	Flag string
	Doc  string
}

// Keys lists every key a definition file may hold, in the order the
// manual presents them.
func Keys() []Key {
	return []Key{
		{Name: "program", Type: "a string (an absolute path, or a name looked up on PATH)", Default: "required",
			Doc: "The program to run as the daemon. It must exist and be executable when the service starts."},
		{Name: "args", Type: "an array of strings", Default: "none",
			Doc: "Arguments passed to the program, each an element: no shell splitting or quoting."},
		{Name: "description", Type: "a string", Default: "the service name",
			Doc: "One line saying what the service is; the init script's Short-Description."},
		{Name: "pidfile", Type: "a string (an absolute path)", Default: "/run/daemonctl/NAME.pid as root, $XDG_RUNTIME_DIR/daemonctl/NAME.pid otherwise",
			Doc: "The locked PID file. The default directory is created (mode 0755) on start; a pidfile given here must be in an existing directory. No two services may share one."},
		{Name: "user", Type: "a string (a user name or uid)", Default: "the caller's", Flag: "--user",
			Doc: "Run as this user, with its supplementary groups (root only). The user must exist."},
		{Name: "group", Type: "a string (a group name or gid)", Default: "the user's primary group", Flag: "--group",
			Doc: "Run with this primary group (root only). The group must exist."},
		{Name: "chdir", Type: "a string (an absolute path)", Default: "/", Flag: "--chdir",
			Doc: "The daemon's working directory."},
		{Name: "umask", Type: "an octal mask, like \"027\"", Default: "\"022\"", Flag: "--umask",
			Doc: "The daemon's umask, read as octal: \"027\", 27 and 0o027 mean the same (TOML forbids a bare 027)."},
		{Name: "nice", Type: "an integer from -20 to 19", Default: "unchanged", Flag: "--nice",
			Doc: "The daemon's nice level."},
		{Name: "env", Type: "a table of strings", Default: "none", Flag: "--env",
			Doc: "Environment variables to add, as an [env] table of KEY = \"value\" entries."},
		{Name: "clear-env", Type: "a boolean", Default: "false", Flag: "--clear-env",
			Doc: "Start from an empty environment: the daemon then sees only the [env] table (and --env)."},
		{Name: "stdout", Type: "a string (an absolute path)", Default: "/dev/null", Flag: "--stdout",
			Doc: "File the daemon's standard output is appended to (created 0640). Its directory must exist."},
		{Name: "stderr", Type: "a string (an absolute path)", Default: "/dev/null", Flag: "--stderr",
			Doc: "File the daemon's standard error is appended to (created 0640). Its directory must exist."},
		{Name: "stop-schedule", Type: "a string in --retry syntax, like \"TERM/30/KILL/5\"", Default: "\"TERM/10/KILL/5\"", Flag: "--retry, --signal",
			Doc: "How stop and restart end the daemon, as --retry reads it: signals to send, seconds to wait and forever (repeat what follows), separated by /, like \"TERM/30/KILL/5\" or \"forever/TERM/1\". A bare number N means TERM/N/KILL/N."},
		{Name: "reload-signal", Type: "a string naming a signal, like \"HUP\" or \"USR2\"", Default: "\"HUP\"", Flag: "reload --signal",
			Doc: "The signal reload sends."},
		{Name: "wait", Type: "a string holding a duration, like \"500ms\" or \"2s\"", Default: "no wait", Flag: "--wait",
			Doc: "After starting, watch the daemon this long and fail the start if it exits meanwhile."},
		{Name: "notify", Type: "a boolean", Default: "false", Flag: "--notify",
			Doc: "Wait for the daemon to send READY=1 on NOTIFY_SOCKET (systemd's sd_notify protocol) before start returns."},
		{Name: "timeout", Type: "a string holding a duration, like \"30s\"", Default: "\"30s\"", Flag: "--timeout",
			Doc: "With notify: how long to wait for READY=1 before the start fails and the daemon is stopped."},
		{Name: "keep-on-timeout", Type: "a boolean", Default: "false", Flag: "--keep-on-timeout",
			Doc: "With notify: leave the daemon running when it misses the timeout (the start still fails)."},
		{Name: "notify-socket", Type: "a string (an absolute path)", Default: "an abstract socket", Flag: "--notify-socket",
			Doc: "With notify: bind the notification socket at this file-system path."},
		{Name: "supervise", Type: "a boolean", Default: "false", Flag: "--supervise",
			Doc: "Keep the program running: daemonctl's supervisor holds the lock, respawns the program and rotates its stdout and stderr files. The keys below apply only with it."},
		{Name: "respawn", Type: "\"on-failure\" or \"always\"", Default: "\"on-failure\"", Flag: "--respawn",
			Doc: "When the program is respawned: after a non-zero exit or a death by a signal, or after every exit. An exit 0 under on-failure ends the service."},
		{Name: "respawn-delay", Type: "a string holding a duration, like \"100ms\"", Default: "\"100ms\"", Flag: "--respawn-delay",
			Doc: "The wait before the first respawn; it doubles with each respawn, and resets once the program has stayed up."},
		{Name: "respawn-delay-max", Type: "a string holding a duration, like \"30s\"", Default: "\"30s\"", Flag: "--respawn-delay-max",
			Doc: "The longest the doubled delay grows."},
		{Name: "respawn-limit", Type: "a string \"N/PERIOD\", like \"5/10s\", or \"unlimited\"", Default: "\"5/10s\"", Flag: "--respawn-limit",
			Doc: "Give up after more than N respawns within PERIOD: the service is then failed (status 1)."},
		{Name: "watchdog", Type: "a string holding a duration, like \"30s\"", Default: "none", Flag: "--watchdog",
			Doc: "The program must send WATCHDOG=1 (sd_notify) this often, or it is sent SIGABRT, stopped and respawned."},
		{Name: "log-max-size", Type: "a size, like \"10M\" (K, M, G suffixes)", Default: "\"10M\"", Flag: "--log-max-size",
			Doc: "Rotate the stdout and stderr files at this size."},
		{Name: "log-keep", Type: "an integer from 0 to 1000", Default: "5", Flag: "--log-keep",
			Doc: "How many rotated files of each log to keep."},
		{Name: "forking", Type: "a boolean", Default: "false", Flag: "--forking",
			Doc: "The program forks itself away (nginx's daemon on): its exit 0 ends the start-up, and the process it leaves is supervised."},
		{Name: "program-pidfile", Type: "a string (an absolute path)", Default: "none", Flag: "--program-pidfile",
			Doc: "With forking: the file the program writes its main process's PID to (read with the trust rules)."},
		{Name: "init.required-start", Type: "a string", Default: "\"$remote_fs $syslog\"",
			Doc: "The init script's Required-Start line (facilities or services that must start first)."},
		{Name: "init.required-stop", Type: "a string", Default: "\"$remote_fs $syslog\"",
			Doc: "The init script's Required-Stop line."},
		{Name: "init.default-start", Type: "a string", Default: "\"2 3 4 5\"",
			Doc: "The init script's Default-Start runlevels."},
		{Name: "init.default-stop", Type: "a string", Default: "\"0 1 6\"",
			Doc: "The init script's Default-Stop runlevels."},
	}
}

// keyDoc finds a key's documentation.
func keyDoc(name string) (Key, bool) {
	for _, k := range Keys() {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}
