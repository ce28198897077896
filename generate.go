package main

// The manual pages, shell completions and sample init script under doc/
// are generated from the command-line definition by internal/gendocs,
// run from a test so that the daemonctl binary does not carry the
// generator; the same test fails when the committed files are stale.
//
//go:generate env DAEMONCTL_UPDATE_DOCS=1 go test -count=1 -run ^TestGeneratedDocs$ .
