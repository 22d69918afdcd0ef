package clickhouse

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      Config
		err       string
	}{
		{name: "defaults", url: "clickhouse://ch1", want: Config{Addr: "ch1:9000", Database: "omnikpi", User: "default"}},
		{name: "all parts", url: "clickhouse://kpi:s3cret@ch1:9440/shop", want: Config{Addr: "ch1:9440", Database: "shop", User: "kpi", Password: "s3cret"}},
		{name: "cluster", url: "clickhouse://ch1:9000/shop?cluster=prod", want: Config{Addr: "ch1:9000", Database: "shop", User: "default", Layout: Layout{Cluster: "prod", Replicated: true}}},
		{name: "other scheme", url: "postgres://ch1/shop", err: "want clickhouse://host:9000/database"},
		{name: "database name", url: "clickhouse://ch1/shop;drop", err: `database name "shop;drop"`},
		{name: "cluster name", url: "clickhouse://ch1/shop?cluster=a%20b", err: `cluster name "a b"`},
		{name: "password kept out of errors", url: "clickhouse://kpi:s3cret@ch1/bad-name", err: "kpi:xxxxx@ch1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %v, want one containing %q and no password", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Addr != tc.want.Addr || got.Database != tc.want.Database || got.User != tc.want.User ||
				got.Password != tc.want.Password || got.Layout.Cluster != tc.want.Layout.Cluster || got.Layout.Replicated != tc.want.Layout.Replicated {
				t.Errorf("ParseURL = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := Redacted("clickhouse://kpi:s3cret@ch1/shop"); strings.Contains(got, "s3cret") {
		t.Errorf("Redacted = %q", got)
	}
	if got := Redacted("./omnikpi.duckdb"); got != "./omnikpi.duckdb" {
		t.Errorf("Redacted(path) = %q", got)
	}
}
