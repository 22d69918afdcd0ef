package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_Configuration: serve checks its configuration before it opens
// anything, naming a wrong setting and an unknown key or variable as they
// were given.
func TestServe_Configuration(t *testing.T) {
	db := filepath.Join(t.TempDir(), "config.duckdb")
	for _, tc := range []struct {
		name string
		env  string // NAME=VALUE, or none
		file string // the configuration file's text, or none
		args []string
		want string
	}{
		{"unknown key", "", `{"journal": {"dri": "/tmp/j"}}`, nil, `unknown key "journal.dri"`},
		{"wrong value in the file", "", `{"max_inflight": 0}`, nil, "max_inflight in "},
		{"wrong value in the environment", "OMNIKPI_MAX_LAG=soon", "", nil, "OMNIKPI_MAX_LAG"},
		{"unknown variable", "OMNIKPI_ADR=127.0.0.1:0", "", nil, "unknown variable OMNIKPI_ADR"},
		// The variable's 0 would be refused first: the flag's 5 wins over it.
		{"a flag wins", "OMNIKPI_MAX_INFLIGHT=0", "", []string{"--max-inflight", "5", "--max-lag", "0s"}, "--max-lag must be a positive duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				name, value, _ := strings.Cut(tc.env, "=")
				t.Setenv(name, value)
			}
			args := append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, tc.args...)
			if tc.file != "" {
				args = append(args, "--config", writeFile(t, "omnikpi.json", tc.file))
			}
			code, _, errOut := run(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, %q; want it to say %s", code, errOut, tc.want)
			}
		})
	}
}
