package client_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/api"
	"github.com/omnikpi/omnikpi/internal/kpi"
	"github.com/omnikpi/omnikpi/internal/store"
)

// TestClient_OutsideTheModule: a program outside omnikpi's module can
// import client only if it imports no internal package, so none of them
// can appear in its API either.
func TestClient_OutsideTheModule(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's imports: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/omnikpi/omnikpi/internal") {
			t.Errorf("client depends on %s", pkg)
		}
	}
	doc, err := exec.Command(goTool, "doc", "-all", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go doc: %v\n%s", err, doc)
	}
	for _, internal := range []string{"api.", "kpi.", "store.", "ingest.", "internal/"} {
		if strings.Contains(string(doc), internal) {
			t.Errorf("go doc ./client names %s…", internal)
		}
	}
}

// TestTypes_MirrorTheAPI: each client type reads every field of the
// server's JSON and writes it back byte for byte, and the server reads
// every field the client type writes.
func TestTypes_MirrorTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client any // pointers to zero values
	}{
		{"ingest result", &api.IngestResult{}, &client.IngestResult{}},
		{"report", &kpi.Report{}, &client.Report{}},
		{"workspace", &store.Workspace{}, &client.Workspace{}},
		{"workspace change", &api.WorkspaceChange{}, &client.WorkspaceChange{}},
		{"key", &api.KeyInfo{}, &client.Key{}},
		{"key request", &api.KeyRequest{}, &client.KeyRequest{}},
		{"rotated key", &api.RotatedKey{}, &client.RotatedKey{}},
		{"audit entry", &api.AuditEntry{}, &client.AuditEntry{}},
		{"user", &store.User{}, &client.User{}},
		{"tracker", &api.TrackerInfo{}, &client.TrackerInfo{}},
		{"tracker change", &api.TrackerChange{}, &client.TrackerChange{}},
		{"chat link", &api.ChatLinkAnswer{}, &client.LinkWithURL{}},
		{"quarantine list", &api.QuarantineList{}, &client.QuarantineList{}},
		{"quarantine mapping", &api.QuarantineMapping{}, &client.QuarantineMapping{}},
		{"quarantine result", &api.QuarantineResult{}, &client.QuarantineResult{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			roundTrip(t, "server to client", tc.server, tc.client)
			roundTrip(t, "client to server", reflect.New(reflect.TypeOf(tc.client).Elem()).Interface(), reflect.New(reflect.TypeOf(tc.server).Elem()).Interface())
		})
	}
}

// roundTrip fills every field of from, writes it as JSON, reads that into
// to refusing unknown fields, and checks that to writes the same JSON.
func roundTrip(t *testing.T, direction string, from, to any) {
	t.Helper()
	fill(reflect.ValueOf(from).Elem())
	want, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	if err := dec.Decode(to); err != nil {
		t.Fatalf("%s: %v\n%s", direction, err, want)
	}
	got, err := json.Marshal(to)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", direction, got, want)
	}
}

// fill sets every field reachable from v to a value that is not zero, so
// that none is left out of the JSON.
func fill(v reflect.Value) {
	switch v.Interface().(type) {
	case time.Time:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		return
	case json.RawMessage:
		v.Set(reflect.ValueOf(json.RawMessage(`{"k":1}`)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7 * int64(time.Hour))
	case reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	}
}

func TestWorkspaceHeader(t *testing.T) {
	if client.WorkspaceHeader != api.WorkspaceHeader {
		t.Errorf("client sends %s, the server reads %s", client.WorkspaceHeader, api.WorkspaceHeader)
	}
}

// TestDuration_AsTheServer: a duration reads and writes as the server's.
func TestDuration_AsTheServer(t *testing.T) {
	for _, text := range []string{"7d", "36h", "90m", "45s", "0s", "1.5d", "2d12h", "168h0m0s", "1h30m", "1500ms", "-2d", "-1h",
		"", "d", "7x", "1e3d", "NaNd", "2d-1h", "1d_0", "300000000000d"} {
		want, wantErr := store.ParseDuration(text)
		var d client.Duration
		err := d.UnmarshalText([]byte(text))
		if (err != nil) != (wantErr != nil) || (err == nil && time.Duration(d) != want) {
			t.Errorf("%q: %v, %v; the server reads %v, %v", text, time.Duration(d), err, want, wantErr)
			continue
		}
		if err == nil && d.String() != store.FormatDuration(want) {
			t.Errorf("%q: written %q, the server writes %q", text, d.String(), store.FormatDuration(want))
		}
	}
}
