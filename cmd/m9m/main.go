// Command m9m runs and administers the m9m authentication service:
// serve, migrate, user create, config validate and version.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "m9m:", err)
		os.Exit(1)
	}
}
