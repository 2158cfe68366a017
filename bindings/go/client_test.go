package cairn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cairn "cairn.dev/cairn"
)

var bg = context.Background()

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func lease1(t *testing.T, c *cairn.Client, q string, o cairn.LeaseOptions) *cairn.LeasedTask {
	t.Helper()
	ts, err := c.Lease(bg, []string{q}, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("leased %d tasks, want 1", len(ts))
	}
	return ts[0]
}

func TestLifeOfATask(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, created, err := c.Enqueue(bg, q, []byte("hello"), &cairn.EnqueueOptions{Priority: 3})
	if err != nil || !created {
		t.Fatal(err, created)
	}
	lt := lease1(t, c, q, cairn.LeaseOptions{WorkerID: "go-test"})
	if lt.Task.Id != id || lt.Task.Attempt != 1 || string(lt.Task.Payload) != "hello" {
		t.Fatalf("leased %v", lt.Task)
	}
	hb := must[*cairnpbHeartbeat](t)(c.Heartbeat(bg, id, lt.LeaseToken, []byte("page 3")))
	if hb.CancelRequested || hb.DeadlineMs < lt.DeadlineMs {
		t.Fatal(hb)
	}
	if next, err := c.Complete(bg, id, lt.LeaseToken, []byte("sent"), nil); err != nil || next != nil {
		t.Fatal(next, err)
	}
	if _, err := c.Complete(bg, id, lt.LeaseToken, []byte("sent"), nil); err != nil {
		t.Fatal("a repeated completion:", err)
	}
	task := must[*cairn.Task](t)(c.Get(bg, id))
	if task.State != cairn.Succeeded || string(task.Result) != "sent" || string(task.Details) != "page 3" || task.WorkerId != "go-test" {
		t.Fatal(task)
	}
	var kinds []string
	for _, e := range must[[]*cairn.Event](t)(c.History(bg, id)) {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != "enqueued,leased,heartbeat,completed" {
		t.Fatal(kinds)
	}
	tasks, next, err := c.List(bg, q, cairn.Succeeded, 10, 0)
	if err != nil || len(tasks) != 1 || tasks[0].Id != id || next != 0 {
		t.Fatal(tasks, next, err)
	}
	st := must[[]*cairn.QueueStats](t)(c.Stats(bg, q))
	if len(st) != 1 || st[0].Succeeded != 1 {
		t.Fatal(st)
	}
	if _, done, err := c.Await(bg, id, time.Second); !done || err != nil {
		t.Fatal(done, err)
	}
	if _, err := c.Get(bg, 999999999); !errors.Is(err, cairn.ErrNotFound) {
		t.Fatal(err)
	}
}

func TestFencingAfterLeaseLoss(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("x"), nil)
	old := lease1(t, c, q, cairn.LeaseOptions{LeaseTimeout: 200 * time.Millisecond})
	time.Sleep(400 * time.Millisecond)
	if _, err := c.Heartbeat(bg, id, old.LeaseToken, nil); !errors.Is(err, cairn.ErrLeaseLost) {
		t.Fatal("heartbeat after expiry:", err)
	}
	again := lease1(t, c, q, cairn.LeaseOptions{Wait: 3 * time.Second})
	if again.Task.Id != id || again.Task.Attempt != 2 {
		t.Fatal(again.Task)
	}
	_, err := c.Complete(bg, id, old.LeaseToken, []byte("stale"), nil)
	var e *cairn.Error
	if !errors.As(err, &e) || e.Code != cairn.FailedPrecondition || !cairn.IsLeaseLost(err) || e.Method != "Complete" {
		t.Fatal("stale complete:", err)
	}
	if _, err := c.Complete(bg, id, again.LeaseToken, []byte("fresh"), nil); err != nil {
		t.Fatal(err)
	}
	if r := must[*cairn.Task](t)(c.Get(bg, id)).Result; string(r) != "fresh" {
		t.Fatal(string(r))
	}
}

func TestReleaseGivesATaskBack(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("x"), nil)
	lt := lease1(t, c, q, cairn.LeaseOptions{ReleaseOnDisconnect: true})
	st, err := c.Release(bg, id, lt.LeaseToken, &cairn.ReleaseOptions{Reason: "deploy"})
	if err != nil || st != cairn.Pending {
		t.Fatal("release:", st, err)
	}
	if _, err := c.Complete(bg, id, lt.LeaseToken, nil, nil); !cairn.IsLeaseLost(err) {
		t.Fatal("complete after release:", err)
	}
	again := lease1(t, c, q, cairn.LeaseOptions{})
	if again.Task.Id != id || again.Task.Attempt != 1 {
		t.Fatal(again.Task)
	}
	if _, err := c.Complete(bg, id, again.LeaseToken, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestHeartbeatsKeepALease(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("x"), nil)
	lt := lease1(t, c, q, cairn.LeaseOptions{LeaseTimeout: 300 * time.Millisecond})
	for i := 0; i < 8; i++ {
		time.Sleep(100 * time.Millisecond)
		if _, err := c.Heartbeat(bg, id, lt.LeaseToken, nil); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := c.Complete(bg, id, lt.LeaseToken, nil, nil); err != nil {
		t.Fatal(err)
	}
	if task := must[*cairn.Task](t)(c.Get(bg, id)); task.State != cairn.Succeeded || task.Attempt != 1 {
		t.Fatal(task)
	}
}

func TestIdempotentEnqueue(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	a, ca, _ := c.Enqueue(bg, q, []byte("one"), &cairn.EnqueueOptions{Key: "invoice-42"})
	b, cb, err := c.Enqueue(bg, q, []byte("two"), &cairn.EnqueueOptions{Key: "invoice-42"})
	if err != nil || a != b || !ca || cb {
		t.Fatal(a, b, ca, cb, err)
	}
}

func TestRetryThenFailed(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("x"), &cairn.EnqueueOptions{MaxAttempts: 2,
		Retry: &cairn.RetryPolicy{InitialBackoffMs: 50}})
	t1 := lease1(t, c, q, cairn.LeaseOptions{})
	if f := must[*cairnpbFail](t)(c.Fail(bg, id, t1.LeaseToken, "SMTP 451", nil)); f.State != cairn.Pending || f.RunAtMs == 0 {
		t.Fatal(f)
	}
	t2 := lease1(t, c, q, cairn.LeaseOptions{Wait: 3 * time.Second})
	if t2.Task.Attempt != 2 {
		t.Fatal(t2.Task)
	}
	if f := must[*cairnpbFail](t)(c.Fail(bg, id, t2.LeaseToken, "again", nil)); f.State != cairn.Failed {
		t.Fatal(f)
	}
	if task := must[*cairn.Task](t)(c.Get(bg, id)); task.State != cairn.Failed || task.LastError != "again" {
		t.Fatal(task)
	}
	if task := must[*cairn.Task](t)(c.Retry(bg, id)); task.State != cairn.Pending {
		t.Fatal(task)
	}
}

func TestNonRetryable(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("x"), &cairn.EnqueueOptions{MaxAttempts: 5})
	lt := lease1(t, c, q, cairn.LeaseOptions{})
	f := must[*cairnpbFail](t)(c.Fail(bg, id, lt.LeaseToken, "bad input", &cairn.FailOptions{NonRetryable: true}))
	if f.State != cairn.Failed {
		t.Fatal(f)
	}
}

func TestCancel(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	p, _, _ := c.Enqueue(bg, q, []byte("pending"), &cairn.EnqueueOptions{Delay: time.Minute})
	if s, err := c.Cancel(bg, p); s != cairn.Canceled || err != nil {
		t.Fatal(s, err)
	}
	a, _, _ := c.Enqueue(bg, q, []byte("active"), nil)
	lt := lease1(t, c, q, cairn.LeaseOptions{})
	if s, err := c.Cancel(bg, a); s != cairn.Active || err != nil {
		t.Fatal(s, err)
	}
	if hb, err := c.Heartbeat(bg, a, lt.LeaseToken, nil); err != nil || !hb.CancelRequested {
		t.Fatal(hb, err)
	}
	if f, err := c.Fail(bg, a, lt.LeaseToken, "stopped", nil); err != nil || f.State != cairn.Canceled {
		t.Fatal(f, err)
	}
}

func TestLongPollWokenByACommit(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	other := dial(t, sharedURL(t), nil)
	q := queueName(t)
	start := time.Now()
	var id uint64
	go func() {
		time.Sleep(200 * time.Millisecond)
		id, _, _ = other.Enqueue(bg, q, []byte("wake"), nil)
	}()
	lt := lease1(t, c, q, cairn.LeaseOptions{Wait: 10 * time.Second})
	if string(lt.Task.Payload) != "wake" || time.Since(start) > 3*time.Second {
		t.Fatal(lt.Task, time.Since(start), id)
	}
}

func TestDelay(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	start := time.Now()
	c.Enqueue(bg, q, []byte("later"), &cairn.EnqueueOptions{Delay: 600 * time.Millisecond})
	if ts, err := c.Lease(bg, []string{q}, cairn.LeaseOptions{}); len(ts) != 0 || err != nil {
		t.Fatal("leased before its time", ts, err)
	}
	lease1(t, c, q, cairn.LeaseOptions{Wait: 5 * time.Second})
	if time.Since(start) < 550*time.Millisecond {
		t.Fatal("leased after", time.Since(start))
	}
}

func TestContextEndsACall(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	ctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Lease(ctx, []string{q}, cairn.LeaseOptions{Wait: 10 * time.Second})
	if cairn.CodeOf(err) != cairn.DeadlineExceeded || time.Since(start) > 2*time.Second {
		t.Fatal(err, time.Since(start))
	}
	ctx2, cancel2 := context.WithCancel(bg)
	go func() { time.Sleep(100 * time.Millisecond); cancel2() }()
	if _, err := c.Lease(ctx2, []string{q}, cairn.LeaseOptions{Wait: 10 * time.Second}); cairn.CodeOf(err) != cairn.Cancelled {
		t.Fatal(err)
	}
	// The client goes on.
	if _, err := c.Ping(bg); err != nil {
		t.Fatal(err)
	}
}

func TestManyCallsInFlight(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	var wg sync.WaitGroup
	ids := make([]uint64, 200)
	errs := make([]error, 200)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ids[i], _, errs[i] = c.Enqueue(bg, q, []byte(fmt.Sprint(i)), nil)
		}(i)
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i, id := range ids {
		if errs[i] != nil || seen[id] {
			t.Fatal(i, id, errs[i])
		}
		seen[id] = true
	}
}

func TestBadInputAndBadURLs(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	if _, _, err := c.Enqueue(bg, "no spaces", []byte("x"), nil); !errors.Is(err, cairn.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "queue") {
		t.Fatal(err)
	}
	for _, u := range []string{"http://127.0.0.1:7420", "127.0.0.1:7420", "tcp://127.0.0.1",
		"tcp://127.0.0.1:7420/x", "ipc://"} {
		if _, err := cairn.Dial(bg, u, nil); !errors.Is(err, cairn.ErrInvalidArgument) {
			t.Errorf("%s: %v", u, err)
		}
	}
	// A server that is down: a clear error at once.
	start := time.Now()
	_, err := cairn.Dial(bg, fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t)), &cairn.Options{Timeout: time.Second})
	if !errors.Is(err, cairn.ErrUnavailable) || !strings.Contains(err.Error(), "refused") || time.Since(start) > 2*time.Second {
		t.Fatal(err)
	}
}

func TestAuthTokens(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("tok-alpha-0123456789\n"), 0o600)
	s := newServer(t, "tcp", "--token-file", tokens).start(&cairn.Options{Token: "tok-alpha-0123456789"}, 0)
	none := dial(t, s.URL, nil)
	wrong := dial(t, s.URL, &cairn.Options{Token: "tok-alpha-012345678"})
	right := dial(t, s.URL, &cairn.Options{Token: "tok-alpha-0123456789"})
	if _, _, err := none.Enqueue(bg, "q", nil, nil); !errors.Is(err, cairn.ErrUnauthenticated) {
		t.Fatal(err)
	}
	if _, err := wrong.Ping(bg); !errors.Is(err, cairn.ErrUnauthenticated) || !strings.Contains(err.Error(), "token") {
		t.Fatal(err)
	}
	if _, created, err := right.Enqueue(bg, "q", nil, nil); err != nil || !created {
		t.Fatal(err)
	}
}

func tlsConfig(t *testing.T, dir string, client bool, ca string) *tls.Config {
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(filepath.Join(dir, ca))
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if client {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

func TestTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("bash", filepath.Join(repo, "tests/durability/gen_certs.sh"), dir).CombinedOutput(); err != nil {
		t.Fatal(string(out), err)
	}
	f := func(n string) string { return filepath.Join(dir, n) }
	good := tlsConfig(t, dir, true, "ca.pem")
	s := newServer(t, "tls+tcp", "--tls-cert", f("server.pem"), "--tls-key", f("server.key"),
		"--tls-ca", f("ca.pem")).start(&cairn.Options{TLS: good}, 0)
	c := dial(t, s.URL, &cairn.Options{TLS: good})
	if _, created, err := c.Enqueue(bg, "q", []byte("over tls"), nil); err != nil || !created {
		t.Fatal(err)
	}
	refused := func(what string, cfg *tls.Config, url string) {
		start := time.Now()
		_, err := cairn.Dial(bg, url, &cairn.Options{TLS: cfg, Timeout: 3 * time.Second})
		if !errors.Is(err, cairn.ErrUnavailable) || time.Since(start) > 4*time.Second {
			t.Errorf("%s: %v (%v)", what, err, time.Since(start))
		}
		t.Logf("%s: %v", what, err)
	}
	refused("rogue CA", tlsConfig(t, dir, true, "rogue-ca.pem"), s.URL)
	wrongName := tlsConfig(t, dir, true, "ca.pem")
	wrongName.ServerName = "cairn.example.com"
	refused("wrong name", wrongName, s.URL)
	refused("no client certificate", tlsConfig(t, dir, false, "ca.pem"), s.URL)
	if _, err := cairn.Dial(bg, strings.Replace(s.URL, "tls+tcp", "tcp", 1), &cairn.Options{Timeout: time.Second}); err == nil {
		t.Error("plain TCP to a TLS listener worked")
	}
}

func TestServerRestart(t *testing.T) {
	s := newServer(t, "tcp").start(nil, 0)
	c := dial(t, s.URL, &cairn.Options{Timeout: 8 * time.Second})
	q := queueName(t)
	id, _, err := c.Enqueue(bg, q, []byte("before"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	got := make(chan *cairn.Task, 1)
	go func() {
		task, err := c.Get(bg, id) // made while the server is down
		if err != nil {
			t.Error(err)
		}
		got <- task
	}()
	time.Sleep(300 * time.Millisecond)
	s.start(nil, s.port)
	if task := <-got; task == nil || !bytes.Equal(task.Payload, []byte("before")) {
		t.Fatal(task)
	}
	if _, created, err := c.Enqueue(bg, q, []byte("after"), nil); err != nil || !created {
		t.Fatal(err)
	}
}

func TestQueueSettings(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	if _, err := c.SetQueue(bg, &cairn.QueueSettings{Queue: q, Paused: true}, []string{"paused"}, false); !errors.Is(err, cairn.ErrNotFound) {
		t.Fatal("a queue never seen:", err)
	}
	s, err := c.SetQueue(bg, &cairn.QueueSettings{Queue: q, MaxActive: 2, Rate: &cairn.RateLimit{Count: 5, IntervalMs: 1000}}, []string{"max_active", "rate"}, true)
	if err != nil || s.MaxActive != 2 || s.Rate.GetCount() != 5 {
		t.Fatal(s, err)
	}
	if _, err := c.SetQueue(bg, &cairn.QueueSettings{Queue: q, Paused: true}, []string{"paused"}, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Enqueue(bg, q, []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if ts, err := c.Lease(bg, []string{q}, cairn.LeaseOptions{}); err != nil || len(ts) != 0 {
		t.Fatal("a paused queue leased", ts, err)
	}
	if got, err := c.GetQueue(bg, q); err != nil || !got.Paused || got.MaxActive != 2 {
		t.Fatal(got, err)
	}
	if all, err := c.ListQueues(bg); err != nil || len(all) == 0 {
		t.Fatal(all, err)
	}
	if _, err := c.SetQueue(bg, &cairn.QueueSettings{Queue: q, MaxActive: 5000000}, []string{"max_active"}, false); !errors.Is(err, cairn.ErrInvalidArgument) {
		t.Fatal("an absurd max_active:", err)
	}
}
