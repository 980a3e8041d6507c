// Package cli holds what samlad and samlab's command lines share: the
// subcommand table, its usage text and flag parsing.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// Command is one subcommand. Run returns the process exit code.
type Command struct {
	Summary string
	Run     func(args []string) int
}

// Usage writes prog's usage: each command with its summary, by name.
func Usage(w io.Writer, prog string, commands map[string]Command) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\ncommands:\n", prog)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
}

// ParseFlags parses a subcommand's flags and maps -h to exit code 0.
// It returns false (with the exit code) when the command should stop.
func ParseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}
