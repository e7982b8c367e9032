package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// writeReference writes the command reference (docs/cli.md): every command
// with its usage, description, examples and flags, as --help shows them.
func writeReference(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "# crashrig command reference\n\n")
	fmt.Fprintf(w, "Every command and flag, as `crashrig COMMAND --help` prints them. The test\n")
	fmt.Fprintf(w, "`TestReference` keeps this file in step with the code (`go test ./cmd/crashrig -run Reference -update`).\n\n")
	fmt.Fprintf(w, "```\n%s\n```\n", strings.TrimSpace(root.Long))
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		fmt.Fprintf(w, "\n## crashrig %s\n\n%s.\n\n```\ncrashrig %s\n```\n", c.Name(), c.Short, strings.TrimPrefix(c.UseLine(), "crashrig "))
		if c.Long != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Long))
		}
		if c.Example != "" {
			fmt.Fprintf(w, "\nExamples:\n\n```\n%s\n```\n", strings.TrimRight(c.Example, "\n"))
		}
		if f := c.LocalNonPersistentFlags().FlagUsagesWrapped(100); f != "" {
			fmt.Fprintf(w, "\nFlags:\n\n```\n%s```\n", f)
		}
	}
}
