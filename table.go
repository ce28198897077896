package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/internal/parallel"
	"github.com/daemonctl/daemonctl/internal/term"
	"github.com/daemonctl/daemonctl/pidfile"
	"github.com/daemonctl/daemonctl/service"
)

// tableRow is one service in the status table: the single status's
// report (with the main process's resident memory, rss), and its error.
type tableRow struct {
	controller.Report
	err error
}

// statusTable prints every defined service's status: a table, or a JSON
// array of status objects. It inspects the services in this process,
// spread over the CPUs, and spawns nothing.
func statusTable(c *cli.Context) error {
	set, err := loadServices(c)
	if err != nil {
		return err
	}
	rows := tableRows(set)
	if c.Bool("json") {
		reports := rows
		if reports == nil {
			reports = []tableRow{} // an empty array, not null
		}
		if err := writeJSON(c.App.Writer, reports, true); err != nil {
			return err
		}
	} else {
		if len(rows) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "daemonctl: no services defined in %s (add NAME%s files there, give --config-dir, or use status -p FILE)\n", set.Dir, service.Ext)
		} else if !c.Bool("quiet") {
			width, _ := term.Width(c.App.Writer)
			writeTable(c.App.Writer, rows, term.Colour(c.App.Writer), width)
		}
		for _, p := range set.Problems {
			fmt.Fprintln(c.App.ErrWriter, printable(p.Error()))
		}
	}
	if err := worstStatus(rows); err != nil {
		return reported{err}
	}
	return nil
}

// tableRows inspects every service of set, in name order.
func tableRows(set *service.Set) []tableRow {
	names := set.Names()
	rows := make([]tableRow, len(names))
	defs := make(map[string]*service.Definition, len(set.Services))
	for _, d := range set.Services {
		defs[d.Name] = d
	}
	parallel.For(len(names), runtime.GOMAXPROCS(0), func(i int) {
		rows[i] = inspectRow(set, names[i], defs[names[i]])
	})
	return rows
}

func inspectRow(set *service.Set, name string, def *service.Definition) tableRow {
	if def == nil {
		var msgs []string
		var errs []error
		for _, p := range set.ProblemsOf(name) {
			msgs = append(msgs, p.Error())
			errs = append(errs, p)
		}
		return tableRow{Report: controller.Report{Name: name, State: controller.StateInvalid, Message: strings.Join(msgs, "; ")}, err: errors.Join(errs...)}
	}
	report, err := controller.Status(def.PIDFile, def.Name, pidfile.WithProgram(def.Program))
	return tableRow{Report: report, err: err}
}

// worstStatus picks the error that decides the table's exit code: unknown
// (4, which a broken definition is) over dead (1) over stopped (3); nil
// when every service runs.
func worstStatus(rows []tableRow) error {
	var worst error
	rank := map[int]int{statusUnknown: 3, statusDead: 2, statusStopped: 1}
	for _, r := range rows {
		if r.err != nil && (worst == nil || rank[exitCode("status", r.err)] > rank[exitCode("status", worst)]) {
			worst = r.err
		}
	}
	return worst
}

// stateColour is the ANSI colour of a state in the STATE column.
func stateColour(state controller.State) string {
	switch state {
	case controller.StateRunning:
		return "32" // green
	case controller.StateStopped:
		return "2" // dim
	case controller.StateDead, controller.StateFailed:
		return "31" // red
	case controller.StateUnknown, controller.StateUnverified, controller.StateInvalid:
		return "35" // magenta
	case controller.StateOrphaned:
		return "33" // yellow: alive, but not the service's main process
	case controller.StateStarting, controller.StateBackoff, controller.StateStopping:
		return "36" // cyan: a supervisor is at it
	}
	return ""
}

// writeTable prints rows aligned in columns; width, when known, cuts the
// COMMAND column so that no line wraps. It writes through a buffer: a
// write per line was a system call per service.
func writeTable(out io.Writer, rows []tableRow, colour bool, width int) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	header := []string{"NAME", "STATE", "PID", "UPTIME", "RSS", "COMMAND"}
	// A supervised service has a respawn count: then every row gets a
	// RESPAWNS column after UPTIME ("-" for services not supervised).
	supervised := slices.ContainsFunc(rows, func(r tableRow) bool { return r.Respawns != nil })
	if supervised {
		header = slices.Insert(header, 4, "RESPAWNS")
	}
	last := len(header) - 1 // COMMAND
	cells := make([][]string, len(rows))
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for i, r := range rows {
		pid, uptime, rss, command := "-", "-", "-", "-"
		if r.PID > 0 {
			pid = fmt.Sprint(r.PID)
		}
		if r.Started != nil && r.State == controller.StateRunning {
			uptime = controller.FormatUptime(time.Duration(r.Uptime) * time.Second)
		}
		if r.RSS > 0 {
			rss = formatBytes(r.RSS)
		}
		if len(r.Command) > 0 {
			args := make([]string, len(r.Command))
			for i, a := range r.Command {
				args[i] = printable(a) // the daemon chose them
			}
			command = strings.Join(args, " ")
		}
		cells[i] = []string{r.Name, string(r.State), pid, uptime, rss, command}
		if supervised {
			respawns := "-"
			if r.Respawns != nil {
				respawns = strconv.Itoa(*r.Respawns)
			}
			cells[i] = slices.Insert(cells[i], 4, respawns)
		}
		for j, cell := range cells[i][:last] {
			widths[j] = max(widths[j], len(cell))
		}
	}
	prefix := 0 // the width of the columns before COMMAND
	for _, w := range widths[:last] {
		prefix += w + 2
	}
	line := func(cols []string, state controller.State) {
		var b strings.Builder
		for j, cell := range cols[:last] {
			pad := strings.Repeat(" ", widths[j]-len(cell))
			switch {
			case j == 2 || j >= 4: // numbers align right (PID, RESPAWNS, RSS)
				b.WriteString(pad + cell)
			case j == 1 && colour && stateColour(state) != "":
				b.WriteString("\x1b[" + stateColour(state) + "m" + cell + "\x1b[0m" + pad)
			default:
				b.WriteString(cell + pad)
			}
			b.WriteString("  ")
		}
		command := cols[last]
		if width > 0 && prefix+len(command) >= width {
			command = cutTo(command, width-1-prefix)
		}
		b.WriteString(command)
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header, "")
	for i, r := range rows {
		line(cells[i], r.State)
	}
}

// cutTo shortens s to at most n columns, marking the cut. A character
// takes at most as many columns as it has bytes (a CJK one: 3 bytes, 2
// columns), so counting bytes never lets a line wrap; the cut never
// splits a character, which would reach the terminal as garbage.
func cutTo(s string, n int) string {
	if n <= 1 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	i := 0
	for {
		_, size := utf8.DecodeRuneInString(s[i:])
		if i+size > n-1 {
			return s[:i] + "…"
		}
		i += size
	}
}

// formatBytes renders a size as ps and top do: 812K, 12.3M, 1.2G.
func formatBytes(n int64) string {
	const k = 1024
	switch {
	case n < k*k:
		return fmt.Sprintf("%dK", (n+k-1)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1fM", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.1fG", float64(n)/(k*k*k))
}
