package cairn_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	cairn "cairn.dev/cairn"
)

// repo is the repository's root (tests run in bindings/go).
var repo, _ = filepath.Abs("../..")

func cairndPath(t testing.TB) string { return builtPath(t, "CAIRND", "server/cairnd") }

// builtPath returns the program named by the environment variable env, or
// else the newest build of it (rel, under build/<dir>/) that is not a
// sanitizer build.
func builtPath(t testing.TB, env, rel string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	found, _ := filepath.Glob(filepath.Join(repo, "build", "*", rel))
	var ok []string
	for _, p := range found {
		if !regexp.MustCompile(`san`).MatchString(p) {
			ok = append(ok, p)
		}
	}
	sort.Slice(ok, func(i, j int) bool {
		a, _ := os.Stat(ok[i])
		b, _ := os.Stat(ok[j])
		return a.ModTime().After(b.ModTime())
	})
	if len(ok) == 0 {
		t.Fatalf("set %s to the %s binary (or build the tree)", env, rel)
	}
	return ok[0]
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a cairnd on a free loopback port with a temporary store.
type server struct {
	t      testing.TB
	dir    string
	scheme string
	args   []string
	port   int
	URL    string
	cmd    *exec.Cmd
}

func newServer(t testing.TB, scheme string, args ...string) *server {
	s := &server{t: t, dir: t.TempDir(), scheme: scheme, args: args}
	t.Cleanup(s.stop)
	return s
}

// start runs cairnd (on port, or a free one) and waits until it answers.
func (s *server) start(opts *cairn.Options, port int) *server {
	for attempt := 0; attempt < 5; attempt++ {
		s.port = port
		if port == 0 {
			s.port = freePort(s.t)
		}
		s.URL = fmt.Sprintf("%s://127.0.0.1:%d", s.scheme, s.port)
		log, err := os.OpenFile(filepath.Join(s.dir, "cairnd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			s.t.Fatal(err)
		}
		args := append([]string{"--listen", s.URL, "--store", "sqlite:" + filepath.Join(s.dir, "cairn.db"),
			"--log-level", "warn"}, s.args...)
		s.cmd = exec.Command(cairndPath(s.t), args...)
		s.cmd.Stdout, s.cmd.Stderr = log, log
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		if err := s.cmd.Start(); err != nil {
			s.t.Fatal(err)
		}
		log.Close()
		if s.ready(opts) {
			return s
		}
		s.stop()
	}
	s.t.Fatalf("cairnd did not start; see %s/cairnd.log", s.dir)
	return nil
}

func (s *server) ready(opts *cairn.Options) bool {
	o := cairn.Options{Timeout: 500 * time.Millisecond}
	if opts != nil {
		o = *opts
		o.Timeout = 500 * time.Millisecond
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		c, err := cairn.Dial(context.Background(), s.URL, &o)
		if err != nil {
			continue
		}
		_, err = c.Ping(context.Background())
		c.Close()
		if err == nil {
			return true
		}
	}
	return false
}

// stop ends cairnd with SIGTERM, its clean shutdown.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

var qseq atomic.Int64

// queueName gives each test a queue of its own on a shared server.
func queueName(t testing.TB) string {
	n := regexp.MustCompile(`[^A-Za-z0-9_.:-]`).ReplaceAllString(t.Name(), "_")
	if len(n) > 80 {
		n = n[:80]
	}
	return fmt.Sprintf("%s.%d.%d", n, os.Getpid(), qseq.Add(1))
}

func dial(t testing.TB, url string, o *cairn.Options) *cairn.Client {
	t.Helper()
	c, err := cairn.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// shared is one cairnd for the tests that need nothing special.
var shared struct {
	srv *server
	url string
}

func sharedURL(t *testing.T) string {
	if shared.url == "" {
		shared.srv = newServer(&noCleanup{t}, "tcp").start(nil, 0)
		shared.url = shared.srv.URL
	}
	return shared.url
}

// noCleanup keeps the shared server beyond the first test that used it;
// TestMain stops it.
type noCleanup struct{ *testing.T }

func (n *noCleanup) Cleanup(func()) {}
func (n *noCleanup) TempDir() string {
	d, err := os.MkdirTemp("", "cairn-go-")
	if err != nil {
		n.Fatal(err)
	}
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.stop()
		os.RemoveAll(shared.srv.dir)
	}
	os.Exit(code)
}
