// Command workload is the only program in the lab's workload image. It waits
// until it receives SIGTERM or SIGINT and then exits with status 0, so a
// container started from the image runs until "docker stop" and stops at once.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	<-signals
}
