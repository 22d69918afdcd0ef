// Command omnikpi is a KPI engine for conversational and social commerce.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/omnikpi/omnikpi/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
