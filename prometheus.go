package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/daemonctl/daemonctl/controller"
	"github.com/daemonctl/daemonctl/metrics"
	"github.com/daemonctl/daemonctl/pidfile"
)

// statusPrometheus is "status --format prometheus": the metrics of every
// defined service (as the table inspects them), of NAME, or of -p FILE.
// A service's state is in its metrics, so only usage and the definition
// directory fail it.
func statusPrometheus(c *cli.Context) error {
	if c.Bool("json") {
		return usagef(c, "--json and --format prometheus: choose one")
	}
	var reports []controller.Report
	switch {
	case byPIDFile(c):
		if c.Bool("all") {
			return usagef(c, "--all shows the defined services; it does not go with -p")
		}
		if c.Args().Present() {
			return usagef(c, "unexpected argument %q", c.Args().First())
		}
		var opts []pidfile.Option
		exe, err := execOption(c)
		if err != nil {
			return err
		}
		if exe != "" {
			opts = append(opts, pidfile.WithExec(exe))
		}
		r, err := controller.Status(c.String("pidfile"), c.String("name"), opts...)
		if errors.Is(err, controller.ErrUsage) {
			return commandUsage(c.Command.Name, err)
		}
		reports = append(reports, r)
	case c.Bool("all") || !c.Args().Present() && !c.IsSet("name"):
		set, err := loadServices(c)
		if err != nil {
			return err
		}
		for _, row := range tableRows(set) {
			reports = append(reports, row.Report)
		}
	default:
		def, err := namedService(c, 0)
		if err != nil {
			return err
		}
		r, _ := controller.Status(def.PIDFile, def.Name, pidfile.WithProgram(def.Program))
		reports = append(reports, r)
	}
	return metrics.Write(c.App.Writer, reports)
}
