// Command floor does nothing: the cost of starting a Go process, the floor
// that bench/startup measures daemonctl against.
package main

func main() {}
