package service

import (
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyLines maps each key of a TOML document, dotted with its table
// ("init.default-start", "env.PORT"), to the line it is set on, so that
// problems found after decoding (a relative path, a missing program) can
// name their line. Keys inside inline tables map to the table's line.
// A document that does not parse yields what was read before the error,
// and the error.
func keyLines(doc []byte) (map[string]int, error) {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(doc)
	var table []string
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(expr.Key())
			if len(table) > 0 {
				lines[strings.Join(table, ".")] = lineOf(&p, expr.Key())
			}
		case unstable.KeyValue:
			key := append(append([]string(nil), table...), keyParts(expr.Key())...)
			if _, seen := lines[strings.Join(key, ".")]; !seen {
				lines[strings.Join(key, ".")] = lineOf(&p, expr.Key())
			}
		}
	}
	return lines, p.Error()
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// lineOf is the line of a key's first part.
func lineOf(p *unstable.Parser, it unstable.Iterator) int {
	if !it.Next() {
		return 0
	}
	return p.Shape(it.Node().Raw).Start.Line
}
