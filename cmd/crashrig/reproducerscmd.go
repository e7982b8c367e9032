package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/crashrig/crashrig/reproducer/builtin"
)

func newReproducersCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "reproducers",
		Short: "list the built-in reproducers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, b := range builtin.List {
				fmt.Fprintf(stdout, "%-11s %s\n", b.Name, b.Summary)
			}
			return nil
		},
	}
}
