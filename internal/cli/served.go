package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/omnikpi/omnikpi/client"
	"github.com/omnikpi/omnikpi/internal/store/clickhouse"
)

// A DuckDB file is opened by one process at a time. While omnikpi serve
// has it, the other commands go through the server's API: serve keeps the
// admin token in F.admin-token (readable by its owner only) and, while it
// listens, its address in F.serve.
const (
	adminTokenSuffix = ".admin-token"
	serveFileSuffix  = ".serve"
)

// serveInfo is the content of F.serve.
type serveInfo struct {
	URL string `json:"url"`
	PID int    `json:"pid"`
	// TLSCert is the certificate file of an HTTPS server; a command trusts
	// exactly that certificate.
	TLSCert string `json:"tls_cert,omitempty"`
}

// announcement is what serve tells the other commands about itself.
type announcement struct {
	db    string // the DuckDB file; "" for ClickHouse, which needs none of this
	token string
	cert  string
	wrote bool
}

// announceServe reads the admin token of the DuckDB file db, creating it
// at the first start; cert is the certificate file of an HTTPS server.
// For a ClickHouse database it does nothing: any number of processes may
// use one.
func announceServe(db, cert string) (*announcement, error) {
	if clickhouse.IsURL(db) {
		return &announcement{}, nil
	}
	token, err := adminToken(db)
	if err != nil {
		return nil, err
	}
	a := &announcement{db: db, token: token}
	if cert != "" {
		if a.cert, err = filepath.Abs(cert); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// listening writes F.serve once the server listens at base.
func (a *announcement) listening(e *env, base string) {
	if a.db == "" {
		return
	}
	b, _ := json.Marshal(serveInfo{URL: loopback(base), PID: os.Getpid(), TLSCert: a.cert})
	if err := writePrivate(a.db+serveFileSuffix, b); err != nil {
		e.log.Warn("the other omnikpi commands will not find this server", "err", err)
		return
	}
	a.wrote = true
}

// close removes F.serve, unless another server has written it since.
func (a *announcement) close() {
	if !a.wrote {
		return
	}
	var info serveInfo
	if b, err := os.ReadFile(a.db + serveFileSuffix); err == nil && json.Unmarshal(b, &info) == nil && info.PID == os.Getpid() {
		os.Remove(a.db + serveFileSuffix)
	}
}

// adminToken returns the admin token of the DuckDB file db, made at
// random and stored in db.admin-token (mode 0600) when there is none.
func adminToken(db string) (string, error) {
	path := db + adminTokenSuffix
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		b := make([]byte, 32)
		rand.Read(b)
		token := "okadmin_" + hex.EncodeToString(b)
		_, err = f.WriteString(token + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return "", fmt.Errorf("write the admin token %s: %w", path, err)
		}
		return token, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create the admin token %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("the admin token %s may be read by others (mode %04o): make it private with chmod 600 %s, or delete it for a new one", path, info.Mode().Perm(), path)
	}
	return readAdminToken(db)
}

func readAdminToken(db string) (string, error) {
	b, err := os.ReadFile(db + adminTokenSuffix)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 32 {
		return "", fmt.Errorf("%s%s holds no admin token: delete it, and serve makes a new one", db, adminTokenSuffix)
	}
	return token, nil
}

// writePrivate writes a file only its owner can read, replacing it whole.
func writePrivate(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loopback turns a listening address on every interface into one this
// machine reaches.
func loopback(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		host := "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
		u.Host = net.JoinHostPort(host, u.Port())
	}
	return u.String()
}

// viaServer returns a client of the omnikpi serve that has the DuckDB
// file db open, with its admin token, or nil when no server has it (no
// F.serve, or one whose server is gone or does not answer: the file is
// then opened as usual).
func viaServer(ctx context.Context, e *env, db string) (*client.Client, error) {
	if strings.Contains(db, "://") {
		return nil, nil
	}
	b, err := os.ReadFile(db + serveFileSuffix)
	if err != nil {
		return nil, nil
	}
	var info serveInfo
	if err := json.Unmarshal(b, &info); err != nil || info.URL == "" {
		e.log.Debug("ignoring an unreadable server file", "file", db+serveFileSuffix, "err", err)
		return nil, nil
	}
	if info.PID > 0 && !processAlive(info.PID) {
		e.log.Debug("ignoring a stale server file: its process is gone", "file", db+serveFileSuffix, "pid", info.PID)
		return nil, nil
	}
	hc := &http.Client{}
	if info.TLSCert != "" {
		if hc.Transport, err = pinnedTransport(info.TLSCert); err != nil {
			return nil, fmt.Errorf("%s is served by omnikpi serve at %s, but its certificate: %w", db, info.URL, err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.New(info.URL, "", hc).Health(hctx); err != nil {
		e.log.Debug("ignoring a stale server file: no answer", "file", db+serveFileSuffix, "url", info.URL, "err", err)
		return nil, nil
	}
	token, err := readAdminToken(db)
	if err != nil {
		return nil, fmt.Errorf("%s is served by omnikpi serve at %s (pid %d), but its admin token is not readable: %w; run this command as the user who runs serve", db, info.URL, info.PID, err)
	}
	fmt.Fprintf(e.stderr, "omnikpi: %s is served by omnikpi serve at %s; going through its API\n", db, info.URL)
	return client.New(info.URL, token, hc), nil
}

// processAlive reports whether a process with this pid exists; where that
// cannot be told, it says yes and the server's answer decides.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return !errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// pinnedTransport trusts exactly the certificate in the PEM file: the
// server's own, whatever names it carries.
func pinnedTransport(certFile string) (*http.Transport, error) {
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", certFile)
	}
	want := block.Bytes
	if _, err := x509.ParseCertificate(want); err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	return &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // verified below against the pinned certificate
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], want) {
				return fmt.Errorf("the server's certificate is not the one in %s", certFile)
			}
			return nil
		},
	}}, nil
}
